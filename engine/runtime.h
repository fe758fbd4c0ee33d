// Process-level settings for the engine's tools.
#pragma once

namespace imx {

// Makes OpenMP threads sleep instead of spinning between parallel regions, by re-executing the
// program once with OMP_WAIT_POLICY=PASSIVE when the user has not chosen a policy (the OpenMP
// runtime reads it only at start-up). On 2 cores, spinning workers starve the input pipeline
// and the main thread's serial work: measured 3.3x slower dim-train steps with the default
// policy. Call first thing in main(); returns normally when nothing needs to change.
void prefer_passive_openmp(char** argv);

}  // namespace imx

namespace imx {

// With `ranks_here` data-parallel ranks on this machine, gives each an equal share of the cores
// this process may run on (OpenMP and OpenBLAS threads), unless OMP_NUM_THREADS says otherwise:
// N ranks of all cores each would oversubscribe the machine N times.
void share_cores_between_local_ranks(int ranks_here);

}  // namespace imx
