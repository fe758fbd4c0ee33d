// The emulation catches the two bug classes of tensor-core kernels. Linked against losses/mi_cuda
// compiled with one planted bug (IMX_MI_PLANTED names it):
//   IMX_MI_PLANT_MISSING_PIPELINE_WAIT - tc_tile.cuh never waits for its cp.async stages, so it
//     multiplies shared memory the copies have not reached yet (the emulation applies a copy only
//     at the matching wait);
//   IMX_MI_PLANT_FRAGMENT_LAYOUT - the accumulators are written out slot by slot where sm_80's
//     mma puts them, instead of through store_matrix_sync (the emulation scrambles the layout).
// The fused tf32 and bf16 forward must then miss the float64 reference in every schedule, or the
// emulation must stop the kernel (stale data can send the lanes of a warp down different paths
// to a collective, which it reports); the correct build meets the reference in mi_cuda_tests.
#include "tests/mi_cuda/mi_cuda_test_util.h"

#include <sstream>

namespace imx::mi::cuda_test {
namespace {

TEST_CASE("a planted tensor-core bug fails the reference check in every schedule", "[mi_cuda][planted]") {
  const Problem pb{23, 7, 37, 3};  // two row tiles, three column tiles, two depth stages
  const Features f = make_features(pb, 8.0, 11);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  for (Estimator e : {Estimator::jsd, Estimator::infonce}) {
    const double ref = reference(pb, e, L, G).loss;
    for (dev::Precision p : {dev::Precision::tf32, dev::Precision::bf16}) {
      for (int tile : {64, 128}) {  // both tensor-core sweep tiles (tc_tile.cuh: TcTile64, TcTile128)
        for (const imx::simt::Schedule& schedule : imx::simt::standard_schedules()) {
          imx::simt::ScopedSchedule scoped(schedule);
          Request forward_only;
          forward_only.grad_local = forward_only.grad_global = false;
          forward_only.tuning.precision = p;
          forward_only.tuning.sweep_tile = tile;
          const auto what = [&] {
            std::ostringstream os;
            os << IMX_MI_PLANTED << ", " << estimator_name(e) << " " << dev::precision_name(p) << " " << tile
               << " x " << tile << " under " << schedule.to_string();
            return os.str();
          };
          double loss = 0;
          try {
            loss = run_device(Impl::fused, pb, e, L, G, forward_only).loss;
          } catch (const std::exception& stopped) {
            WARN(what() << ": the emulation stopped the kernel: " << stopped.what());
            // Caught. A kernel stopped mid-flight leaves its fibers unwound only in part, so no
            // further launch is made in this process.
            SUCCEED("caught by the emulation");
            return;
          }
          const double err = rel_err(loss, ref);
          // Printed so that the failure the harness sees can be quoted (losses/mi_cuda/README.md).
          WARN(what() << ": fused loss " << loss << " vs reference " << ref << " (relative error " << err << ")");
          CHECK(!(err <= 1e-2));  // NaN counts as caught; the correct build is within 1e-3
        }
      }
    }
  }
}

}  // namespace
}  // namespace imx::mi::cuda_test
