#include "engine/runtime.h"

#include <unistd.h>

#include <omp.h>

#include <algorithm>
#include <cstdlib>

namespace imx {

void prefer_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;  // the user's choice, or already re-executed
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  ::execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with the default policy.
}

}  // namespace imx

namespace imx {

void share_cores_between_local_ranks(int ranks_here) {
  if (ranks_here <= 1 || std::getenv("OMP_NUM_THREADS")) return;
  omp_set_num_threads(std::max(1, omp_get_num_procs() / ranks_here));
}

}  // namespace imx
