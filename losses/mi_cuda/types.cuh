// Plain data shared by the host orchestration and the kernels of the CUDA MI loss.
#pragma once
#include <cmath>
#include <cstdint>

#include "losses/mi/mi.h"
#include "losses/mi_cuda/estimator_terms.cuh"

namespace imx::mi::IMX_KNS {

// The score matrix S = G L^T of a Problem: R = B*K rows (global vectors, row r belongs to image
// r / K), C = B*P columns (local vectors, column c belongs to image c / P), depth D. A pair is
// positive when both images agree.
struct Geometry {
  int64_t R, C, P, K, D;
  double inv_npos, inv_nneg;  // 1/npos, 1/nneg (0 when there are no negatives)
  double log_nneg;            // DV's log-MEAN-exp offset

  static Geometry of(const Problem& pb) {
    const double nneg = double(pb.negatives());
    return Geometry{pb.rows(), pb.cols(), pb.P, pb.K, pb.D, 1.0 / double(pb.positives()),
                    nneg > 0 ? 1.0 / nneg : 0.0, nneg > 0 ? std::log(nneg) : 0.0};
  }
};

// Sums of the f-divergence terms over positives and over negatives (one per block).
struct PointwiseSums {
  double pos, neg;
};

// A partial log-sum-exp: log(sum) = max + log(sum of e^{x - max}); sum == 0 means empty.
template <class A>
struct LsePart {
  A max, sum;
};

// Merges two partials (terms::OnlineLse's rule: empty parts are skipped, the larger max wins).
template <class A>
IMX_HD LsePart<A> merge_lse(LsePart<A> a, LsePart<A> b) {
  terms::OnlineLse<A> state;
  state.max = a.max;
  state.sum = a.sum;
  state.merge(b.max, b.sum);
  return LsePart<A>{state.max, state.sum};
}

}  // namespace imx::mi::IMX_KNS
