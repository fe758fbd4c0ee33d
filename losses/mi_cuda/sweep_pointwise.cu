// Sweep launcher of the f-divergences (jsd gan kl rkl h2 x2 w1): loss sums and dS in one pass.
#include <stdexcept>
#include <string>

#include "losses/mi_cuda/sweep.cuh"

namespace imx::mi::IMX_KNS {

void sweep_pointwise(Estimator e, const Plan& plan, const ScoreSource& source, int64_t c_begin,
                     int64_t c_end, float* ds, int64_t ld_ds, float grad_scale,
                     PointwiseSums* partials, bool accumulate, cudaStream_t stream) {
  visit_estimator(e, [&](auto m) {
    using M = decltype(m);
    if constexpr (M::pointwise) {
      const PointwiseEpilogue<M> ep{plan.g, ds, ld_ds, c_begin, grad_scale, partials, accumulate, 0.0, 0.0};
      with_score_source(plan, source, [&](const auto& src) {
        launch_sweep(src, ep, plan.row_tiles, plan.splits, c_begin, c_end, stream);
      });
    } else {
      throw std::logic_error("mi_cuda sweep_pointwise: '" + std::string(estimator_name(e)) +
                             "' is not an f-divergence");
    }
  });
  check_launch("sweep_pointwise");
}

}  // namespace imx::mi::IMX_KNS
