// Sweep launchers of the log-sum-exp estimators (dv infonce infonce-exact): the forward row
// statistics, and the backward's dS from the combined statistics.
#include <stdexcept>
#include <string>

#include "losses/mi_cuda/sweep.cuh"

namespace imx::mi::IMX_KNS {
namespace {

// Calls f(M{}) for the log-sum-exp estimator e.
template <class F>
void visit_lse_estimator(Estimator e, const char* who, F&& f) {
  visit_estimator(e, [&](auto m) {
    using M = decltype(m);
    if constexpr (!M::pointwise) {
      f(m);
    } else {
      throw std::logic_error(std::string("mi_cuda ") + who + ": '" + std::string(estimator_name(e)) +
                             "' is not a log-sum-exp estimator");
    }
  });
}

}  // namespace

void sweep_lse_stats(Estimator e, const Plan& plan, const ScoreSource& source,
                     LsePart<float>* row_partials, float* pos_scores, float* store_scores, cudaStream_t stream) {
  visit_lse_estimator(e, "sweep_lse_stats", [&](auto m) {
    const LseStatsEpilogue<decltype(m)> ep{plan.g, row_partials, pos_scores, store_scores, {}};
    with_score_source(plan, source, [&](const auto& src) {
      launch_sweep(src, ep, plan.row_tiles, plan.splits, 0, plan.g.C, stream);
    });
  });
  check_launch("sweep_lse_stats");
}

void sweep_lse_grad(Estimator e, const Plan& plan, const ScoreSource& source, int64_t c_begin,
                    int64_t c_end, const float* group_lse, const float* group_weight,
                    float grad_scale, float* ds, int64_t ld_ds, cudaStream_t stream) {
  visit_lse_estimator(e, "sweep_lse_grad", [&](auto m) {
    const LseGradEpilogue<decltype(m)> ep{plan.g, group_lse, group_weight, ds, ld_ds, c_begin, grad_scale, {}, {}};
    with_score_source(plan, source, [&](const auto& src) {
      launch_sweep(src, ep, plan.row_tiles, plan.splits, c_begin, c_end, stream);
    });
  });
  check_launch("sweep_lse_grad");
}

}  // namespace imx::mi::IMX_KNS
