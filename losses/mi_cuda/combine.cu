// The combine step: one block turns the sweep's partials into the loss (written to one device
// float) and, for dv/infoNCE, into each row's group statistics for the backward:
//   N_g = log-sum-exp over the negatives of group g (a row for infoNCE, the batch for DV),
//   a_g = (1/npos) sum over the positives of g of link'(N_g - s)       (terms.h).
// Everything here is summed in double, in a fixed order (deterministic).
#include <cmath>
#include <stdexcept>
#include <string>

#include "losses/mi_cuda/launchers.h"
#include "losses/mi_cuda/reduce.cuh"

namespace imx::mi::IMX_KNS {
namespace {

constexpr int kCombineThreads = 256;

IMX_KERNEL void combine_pointwise_kernel(Geometry g, const PointwiseSums* partials, int64_t count, float* loss) {
  PointwiseSums mine{0.0, 0.0};
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) mine = AddOp{}(mine, partials[i]);
  const PointwiseSums total = block_allreduce(mine, AddOp{});
  if (threadIdx.x == 0) *loss = static_cast<float>(total.pos * g.inv_npos + total.neg * g.inv_nneg);
}

// Row r's log-sum-exp over its negatives, from its per-split partials (+ the authors' -10 fill).
template <class M>
IMX_DEVICE LsePart<double> row_lse(const Geometry& g, const LsePart<float>* parts, int splits, int64_t r) {
  LsePart<double> lse{0.0, 0.0};
  for (int s = 0; s < splits; ++s) {
    const LsePart<float> p = parts[r * splits + s];
    lse = merge_lse(lse, LsePart<double>{p.max, p.sum});
  }
  if constexpr (M::self_fill) {
    // P entries of value -10: one entry of value log(P) - 10.
    lse = merge_lse(lse, LsePart<double>{math::log(double(g.P)) + terms::kSelfFillLogit, 1.0});
  }
  return lse;
}

IMX_DEVICE double lse_value(const LsePart<double>& p) {
  terms::OnlineLse<double> state;
  state.max = p.max;
  state.sum = p.sum;
  return state.value();
}

template <class M>
IMX_KERNEL void combine_lse_kernel(Geometry g, const LsePart<float>* parts, int splits, const float* pos_scores,
                                   float* group_lse, float* group_weight, float* loss) {
  // DV: one group, the whole batch.
  double batch_lse = 0.0;
  if constexpr (M::batch_group) {
    LsePart<double> mine{0.0, 0.0};
    for (int64_t r = threadIdx.x; r < g.R; r += blockDim.x) mine = merge_lse(mine, row_lse<M>(g, parts, splits, r));
    batch_lse = lse_value(block_allreduce(mine, MergeLseOp{}));
  }
  double loss_sum = 0.0, weight_sum = 0.0;
  for (int64_t r = threadIdx.x; r < g.R; r += blockDim.x) {
    const double N = M::batch_group ? batch_lse : lse_value(row_lse<M>(g, parts, splits, r));
    double weight = 0.0;
    for (int64_t p = 0; p < g.P; ++p) {
      const double x = N - double(pos_scores[r * g.P + p]);
      loss_sum += M::link(x);
      weight += M::dlink(x);
    }
    group_lse[r] = static_cast<float>(N);
    if constexpr (!M::batch_group) group_weight[r] = static_cast<float>(weight * g.inv_npos);
    weight_sum += weight;
  }
  loss_sum = block_allreduce(loss_sum, AddOp{});
  if constexpr (M::batch_group) {
    const double a = block_allreduce(weight_sum, AddOp{}) * g.inv_npos;
    for (int64_t r = threadIdx.x; r < g.R; r += blockDim.x) group_weight[r] = static_cast<float>(a);
  }
  if (threadIdx.x == 0) {
    double value = loss_sum * g.inv_npos;
    if constexpr (M::batch_group) value -= g.log_nneg;  // log-MEAN-exp
    *loss = static_cast<float>(value);
  }
}

}  // namespace

void combine_pointwise(const Plan& plan, const PointwiseSums* partials, float* loss, cudaStream_t stream) {
  const int64_t count = plan.row_tiles * plan.splits;
  IMX_LAUNCH(combine_pointwise_kernel, 1, kCombineThreads, 0, stream)(plan.g, partials, count, loss);
  check_launch("combine_pointwise");
}

void combine_lse(Estimator e, const Plan& plan, const Workspace& ws, float* loss, cudaStream_t stream) {
  visit_estimator(e, [&](auto m) {
    using M = decltype(m);
    if constexpr (!M::pointwise) {
      IMX_LAUNCH(combine_lse_kernel<M>, 1, kCombineThreads, 0, stream)(
          plan.g, ws.row_partials, plan.splits, ws.pos_scores, ws.group_lse, ws.group_weight, loss);
    } else {
      throw std::logic_error("mi_cuda combine_lse: '" + std::string(estimator_name(e)) +
                             "' is not a log-sum-exp estimator");
    }
  });
  check_launch("combine_lse");
}

}  // namespace imx::mi::IMX_KNS
