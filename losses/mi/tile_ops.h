// CPU building blocks shared by the fused and unfused kernels: they walk a block of the score
// matrix (a column tile in the fused kernel, a band of rows of the full matrix in the unfused
// one) and apply one estimator's per-pair terms, row statistics and gradient terms.
//
// Within a row of the score matrix, the positives (same image) are one contiguous run of
// columns, so each row is processed as three plain loops (negatives, positives, negatives)
// that vectorize without masks.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "losses/mi/mi.h"
#include "losses/mi/terms.h"

namespace imx::mi::cpu {

struct Geometry {
  explicit Geometry(const Problem& pb)
      : P(pb.P), D(pb.D), K(pb.K), R(pb.rows()), C(pb.cols()), npos(pb.positives()),
        nneg(pb.negatives()), inv_npos(1.0 / double(npos)),
        inv_nneg(nneg > 0 ? 1.0 / double(nneg) : 0.0) {}
  int64_t P, D, K;
  int64_t R;  // score rows: global vectors (i, k), i = r / K
  int64_t C;  // score columns: local vectors (j, p), j = c / P
  int64_t npos, nneg;
  double inv_npos, inv_nneg;
  // The rows whose positives this process scores: all of them, except on a rank of a
  // data-parallel batch, which holds the columns (local features) of its own images only.
  int64_t own_r0 = 0, own_r1 = R;
  int64_t row_image(int64_t r) const { return r / K; }
};

// Rows [r0, r1) x columns [c0, c1) of the score matrix; row r starts at data + (r - r0) * ld.
template <class T>
struct Block {
  T* data;
  int64_t ld, r0, r1, c0, c1;
  T* row(int64_t r) const { return data + (r - r0) * ld; }
};

// The positives of row r that fall inside [c0, c1), as offsets from c0: [begin, end).
struct RowSplit {
  int64_t begin, end;
};
inline RowSplit split_row(const Geometry& g, int64_t r, int64_t c0, int64_t c1) {
  const int64_t first = g.row_image(r) * g.P;
  return {std::clamp(first, c0, c1) - c0, std::clamp(first + g.P, c0, c1) - c0};
}

// Reductions are kept in kLanes independent accumulators (one SIMD register's worth) that are
// only summed at the very end: a horizontal sum per row segment would cost as much as the
// segment itself for the short rows of a tile. Element c of a segment goes to lane c % kLanes.
inline constexpr int kLanes = 16;

// ---------------------------------------------------------------- f-divergence (pointwise) --

struct PointwiseSums {
  double pos = 0, neg = 0;
};

// Adds the loss terms of n scores to `lanes` and, when kGrad, overwrites them with dLoss/ds.
template <class M, bool kPositive, bool kGrad, class T>
void pointwise_segment(T* x, int64_t n, T inv_count, double* lanes) {
  auto one = [&](int64_t c, int l) {
    const T s = x[c];
    if constexpr (kPositive) {
      lanes[l] += double(M::pos(s));
      if constexpr (kGrad) x[c] = M::dpos(s) * inv_count;
    } else {
      lanes[l] += double(M::neg(s));
      if constexpr (kGrad) x[c] = M::dneg(s) * inv_count;
    }
  };
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) one(c + l, l);
  }
  for (int l = 0; c + l < n; ++l) one(c + l, l);
}

template <class M, bool kGrad, class T>
PointwiseSums pointwise_block(const Geometry& g, const Block<T>& b) {
  double pos[kLanes] = {}, neg[kLanes] = {};
  const T inv_npos = T(g.inv_npos), inv_nneg = T(g.inv_nneg);
  const int64_t width = b.c1 - b.c0;
  for (int64_t r = b.r0; r < b.r1; ++r) {
    T* row = b.row(r);
    const RowSplit sp = split_row(g, r, b.c0, b.c1);
    pointwise_segment<M, false, kGrad>(row, sp.begin, inv_nneg, neg);
    pointwise_segment<M, true, kGrad>(row + sp.begin, sp.end - sp.begin, inv_npos, pos);
    pointwise_segment<M, false, kGrad>(row + sp.end, width - sp.end, inv_nneg, neg);
  }
  PointwiseSums sums;
  for (int l = 0; l < kLanes; ++l) sums.pos += pos[l], sums.neg += neg[l];
  return sums;
}

inline double pointwise_loss(const Geometry& g, const PointwiseSums& s) {
  return s.pos * g.inv_npos + s.neg * g.inv_nneg;
}

// ------------------------------------------------------------ log-sum-exp family (softmax) --

using RowLse = terms::OnlineLse<double>;

// kLanes online log-sum-exps per row, updated in one pass with one exp per score: with
// d = s - max, a larger score rescales the lane's sum by e^{-d} and becomes its max, a smaller
// one adds e^{d}; both are e^{-|d|}. The sum is kept in double (it may collect ~1e5 terms).
template <class T>
struct LaneLse {
  T max[kLanes];
  double sum[kLanes];
  void reset() {
    for (int l = 0; l < kLanes; ++l) {
      // Finite "minus infinity": the first score then gives d finite and e^{-|d|} = 0.
      max[l] = std::numeric_limits<T>::lowest() / T(2);
      sum[l] = 0;
    }
  }
  void merge_into(RowLse& row) const {
    for (int l = 0; l < kLanes; ++l) row.merge(double(max[l]), sum[l]);
  }
};

template <class T>
void lane_lse_segment(const T* x, int64_t n, LaneLse<T>& st) {
  auto one = [&](int64_t c, int l) {
    const T d = x[c] - st.max[l];
    const T e = math::exp(d < T(0) ? d : -d);
    const bool larger = d > T(0);
    st.sum[l] = larger ? st.sum[l] * double(e) + 1.0 : st.sum[l] + double(e);
    st.max[l] = larger ? x[c] : st.max[l];
  };
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) one(c + l, l);
  }
  for (int l = 0; c + l < n; ++l) one(c + l, l);
}

// Forward: folds the block's negatives into each row's lane statistics (row_lanes indexed by
// row) and copies the block's positive scores to pos_scores (R x P, positive p of row r at
// r * P + p).
template <class T>
void lse_forward_block(const Geometry& g, const Block<T>& b, LaneLse<T>* row_lanes, T* pos_scores) {
  const int64_t width = b.c1 - b.c0;
  for (int64_t r = b.r0; r < b.r1; ++r) {
    const T* row = b.row(r);
    const RowSplit sp = split_row(g, r, b.c0, b.c1);
    lane_lse_segment(row, sp.begin, row_lanes[r]);
    lane_lse_segment(row + sp.end, width - sp.end, row_lanes[r]);
    const int64_t first_local = g.row_image(r) * g.P;  // column of this row's positive p = 0
    std::copy(row + sp.begin, row + sp.end, pos_scores + r * g.P + (b.c0 + sp.begin - first_local));
  }
}

// How the per-row results of one shard combine with the other shards' (a data-parallel batch
// whose score columns are split between ranks, sharded.h): the default is a single shard,
// where there is nothing to combine.
struct SingleShard {
  double sum(double x) const { return x; }         // the sum of x over every shard
  template <class T>
  void sum(T*, int64_t) const {}                   // each element's sum over every shard
  void merge_rows(RowLse*, int64_t) const {}       // each row's log-sum-exp over every shard's columns
};

// After all tiles: turns the row statistics and the positives into the loss, and into each
// row's group log-sum-exp N and weight a, which define the gradient (see terms.h).
template <class M, class T, class Shards = SingleShard>
double lse_finalize(const Geometry& g, RowLse* row_lse, const T* pos_scores, T* group_lse,
                    T* group_weight, const Shards& shards = {}) {
  shards.merge_rows(row_lse, g.R);
  if constexpr (M::self_fill) {
    const double fill_max = std::log(double(g.P)) + terms::kSelfFillLogit;
    for (int64_t r = 0; r < g.R; ++r) row_lse[r].merge(fill_max, 1.0);
  }
  RowLse batch;
  if constexpr (M::batch_group)
    for (int64_t r = 0; r < g.R; ++r) batch.merge(row_lse[r]);

  // The positives of the own rows give the loss and the weights; the other shards give theirs.
  double loss = 0, batch_weight = 0;
  for (int64_t r = 0; r < g.R; ++r) {
    const double N = M::batch_group ? batch.value() : row_lse[r].value();
    group_lse[r] = T(N);
    group_weight[r] = T(0);
    if (r < g.own_r0 || r >= g.own_r1) continue;
    double weight = 0;
    for (int64_t p = 0; p < g.P; ++p) {
      const double x = N - double(pos_scores[r * g.P + p]);
      loss += M::link(x);
      weight += M::dlink(x);
    }
    group_weight[r] = T(weight * g.inv_npos);
    batch_weight += weight;
  }
  if constexpr (M::batch_group) {
    batch_weight = shards.sum(batch_weight);
    for (int64_t r = 0; r < g.R; ++r) group_weight[r] = T(batch_weight * g.inv_npos);
  } else {
    shards.sum(group_weight, g.R);
  }
  loss = shards.sum(loss) * g.inv_npos;
  if constexpr (M::batch_group) loss -= std::log(double(g.nneg));  // log-MEAN-exp
  return loss;
}

// Backward: overwrites the block's scores with dLoss/ds.
template <class M, class T>
void lse_grad_block(const Geometry& g, const Block<T>& b, const T* group_lse, const T* group_weight) {
  const int64_t width = b.c1 - b.c0;
  const T inv_npos = T(g.inv_npos);
  auto negatives = [](T* x, int64_t n, T N, T a) {
#pragma omp simd
    for (int64_t c = 0; c < n; ++c) x[c] = a * math::exp(x[c] - N);
  };
  for (int64_t r = b.r0; r < b.r1; ++r) {
    T* row = b.row(r);
    const RowSplit sp = split_row(g, r, b.c0, b.c1);
    const T N = group_lse[r], a = group_weight[r];
    negatives(row, sp.begin, N, a);
    negatives(row + sp.end, width - sp.end, N, a);
#pragma omp simd
    for (int64_t c = sp.begin; c < sp.end; ++c) row[c] = -M::dlink(N - row[c]) * inv_npos;
  }
}

}  // namespace imx::mi::cpu
