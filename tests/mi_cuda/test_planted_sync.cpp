// The harness can fail: linked against losses/mi_cuda compiled with the tiled product's first
// __syncthreads removed (IMX_MI_PLANT_MISSING_SYNC), the fused forward reads shared-memory
// stages before they are written, and the comparison with the float64 reference catches it
// under every standard schedule. (The correct build passes the same comparison in
// mi_cuda_tests.)
#include "tests/mi_cuda/mi_cuda_test_util.h"

namespace imx::mi::cuda_test {
namespace {

TEST_CASE("a score tile missing its __syncthreads fails the reference check in every schedule",
          "[mi_cuda][planted]") {
  const Problem pb{23, 7, 37, 3};  // several tiles and depth stages: stale stages are read
  const Features f = make_features(pb, 8.0, 11);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  for (Estimator e : {Estimator::jsd, Estimator::infonce}) {
    const double ref = reference(pb, e, L, G).loss;
    for (const imx::simt::Schedule& schedule : imx::simt::standard_schedules()) {
      imx::simt::ScopedSchedule scoped(schedule);
      Request forward_only;
      forward_only.grad_local = forward_only.grad_global = false;
      const double loss = run_device(Impl::fused, pb, e, L, G, forward_only).loss;
      const double err = rel_err(loss, ref);
      // Printed so that the failure the harness sees can be quoted (losses/mi_cuda/README.md).
      WARN("planted missing __syncthreads, " << estimator_name(e) << " under " << schedule.to_string()
                                             << ": fused loss " << loss << " vs reference " << ref
                                             << " (relative error " << err << ")");
      CHECK(!(err <= 1e-2));  // NaN counts as caught
    }
  }
}

}  // namespace
}  // namespace imx::mi::cuda_test
