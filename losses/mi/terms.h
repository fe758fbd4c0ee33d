// The estimators as small pieces: per-pair terms, the row/group statistic and its gradient.
// Shared by the CPU kernels (fused and unfused) and meant for the CUDA kernel's epilogue too,
// so everything here is IMX_HD and depends on <cmath> only.
//
// Notation (see README.md): s is a score <G[i,k], L[j,p]>; a pair is positive when j == i.
// npos = B*K*P positives, nneg = B*K*(B-1)*P negatives.
#pragma once
#include "losses/mi/math.h"

namespace imx::mi::terms {

inline constexpr double kLog2 = 0.69314718055994530942;

// ---------------------------------------------------------------------------------------------
// f-divergence family ("pointwise"): loss = (1/nneg) sum_neg neg(s) + (1/npos) sum_pos pos(s),
// with pos = -E_pos and neg = E_neg of the reference table. dpos/dneg are their derivatives, so
// dLoss/ds = dpos(s)/npos on positives and dneg(s)/nneg on negatives. No row statistic needed.
// ---------------------------------------------------------------------------------------------

struct Gan {
  static constexpr bool pointwise = true;
  // E_neg = sp(-s) + s, which equals sp(s): the latter is the overflow-free form.
  template <class T> IMX_HD IMX_MI_INLINE static T pos(T s) { return math::softplus(-s); }
  template <class T> IMX_HD IMX_MI_INLINE static T neg(T s) { return math::softplus(s); }
  template <class T> IMX_HD IMX_MI_INLINE static T dpos(T s) { return -math::sigmoid(-s); }
  template <class T> IMX_HD IMX_MI_INLINE static T dneg(T s) { return math::sigmoid(s); }
};

struct Jsd {
  static constexpr bool pointwise = true;
  template <class T> IMX_HD IMX_MI_INLINE static T pos(T s) { return math::softplus(-s) - T(kLog2); }
  template <class T> IMX_HD IMX_MI_INLINE static T neg(T s) { return math::softplus(s) - T(kLog2); }
  template <class T> IMX_HD IMX_MI_INLINE static T dpos(T s) { return Gan::dpos(s); }
  template <class T> IMX_HD IMX_MI_INLINE static T dneg(T s) { return Gan::dneg(s); }
};

struct Kl {
  static constexpr bool pointwise = true;
  template <class T> IMX_HD IMX_MI_INLINE static T pos(T s) { return -s; }
  template <class T> IMX_HD IMX_MI_INLINE static T neg(T s) { return math::exp(s - T(1)); }
  template <class T> IMX_HD IMX_MI_INLINE static T dpos(T) { return T(-1); }
  template <class T> IMX_HD IMX_MI_INLINE static T dneg(T s) { return math::exp(s - T(1)); }
};

struct Rkl {
  static constexpr bool pointwise = true;
  template <class T> IMX_HD IMX_MI_INLINE static T pos(T s) { return math::exp(-s); }
  template <class T> IMX_HD IMX_MI_INLINE static T neg(T s) { return s - T(1); }
  template <class T> IMX_HD IMX_MI_INLINE static T dpos(T s) { return -math::exp(-s); }
  template <class T> IMX_HD IMX_MI_INLINE static T dneg(T) { return T(1); }
};

struct H2 {
  static constexpr bool pointwise = true;
  template <class T> IMX_HD IMX_MI_INLINE static T pos(T s) { return math::exp(-s) - T(1); }
  template <class T> IMX_HD IMX_MI_INLINE static T neg(T s) { return math::exp(s) - T(1); }
  template <class T> IMX_HD IMX_MI_INLINE static T dpos(T s) { return -math::exp(-s); }
  template <class T> IMX_HD IMX_MI_INLINE static T dneg(T s) { return math::exp(s); }
};

struct X2 {
  static constexpr bool pointwise = true;
  // E_neg = -0.5 (sqrt(s^2) + 1)^2 as the reference code writes it; sqrt(s^2) = |s|. Its
  // derivative -(|s| + 1) sign(s) jumps at s = 0, where we use sign(0) = 0.
  template <class T> IMX_HD IMX_MI_INLINE static T pos(T s) { return -s * s; }
  template <class T> IMX_HD IMX_MI_INLINE static T neg(T s) {
    const T a = (s < T(0) ? -s : s) + T(1);
    return T(-0.5) * a * a;
  }
  template <class T> IMX_HD IMX_MI_INLINE static T dpos(T s) { return T(-2) * s; }
  template <class T> IMX_HD IMX_MI_INLINE static T dneg(T s) {
    const T sign = s > T(0) ? T(1) : (s < T(0) ? T(-1) : T(0));
    return -((s < T(0) ? -s : s) + T(1)) * sign;
  }
};

struct W1 {
  static constexpr bool pointwise = true;
  template <class T> IMX_HD IMX_MI_INLINE static T pos(T s) { return -s; }
  template <class T> IMX_HD IMX_MI_INLINE static T neg(T s) { return s; }
  template <class T> IMX_HD IMX_MI_INLINE static T dpos(T) { return T(-1); }
  template <class T> IMX_HD IMX_MI_INLINE static T dneg(T) { return T(1); }
};

// ---------------------------------------------------------------------------------------------
// Log-sum-exp family ("softmax"): negatives enter the loss only through a log-sum-exp N_g over
// the negatives of a group g (one global row (i,k) for infoNCE, the whole batch for DV):
//     loss = (1/npos) sum_pos link(N_g - s) + constant.
// Hence dLoss/ds = -dlink(N_g - s)/npos on a positive, and on a negative of group g
//     dLoss/ds = a_g * exp(s - N_g),   a_g = (1/npos) sum_{pos in g} dlink(N_g - s).
// DV: link(x) = x (so the loss is N - mean_pos s), constant -log(nneg), a_g = 1.
// ---------------------------------------------------------------------------------------------

struct InfoNce {
  static constexpr bool pointwise = false;
  static constexpr bool batch_group = false;  // one group per global row
  // The authors fill the P same-image logits with -10 instead of removing them: the group sum
  // gets P * e^{-10} added, i.e. a log-sum-exp entry of value log(P) - 10.
  static constexpr bool self_fill = true;
  template <class T> IMX_HD IMX_MI_INLINE static T link(T x) { return math::softplus(x); }
  template <class T> IMX_HD IMX_MI_INLINE static T dlink(T x) { return math::sigmoid(x); }
};

struct InfoNceExact {
  static constexpr bool pointwise = false;
  static constexpr bool batch_group = false;
  static constexpr bool self_fill = false;
  template <class T> IMX_HD IMX_MI_INLINE static T link(T x) { return InfoNce::link(x); }
  template <class T> IMX_HD IMX_MI_INLINE static T dlink(T x) { return InfoNce::dlink(x); }
};

struct Dv {
  static constexpr bool pointwise = false;
  static constexpr bool batch_group = true;  // one log-mean-exp over every negative of the batch
  static constexpr bool self_fill = false;
  template <class T> IMX_HD IMX_MI_INLINE static T link(T x) { return x; }
  template <class T> IMX_HD IMX_MI_INLINE static T dlink(T) { return T(1); }
};

inline constexpr double kSelfFillLogit = -10.0;

// Online log-sum-exp (FlashAttention style): represents log(sum) as max + log(scaled sum) and
// merges partial results from tiles in any order. Empty state: sum == 0.
template <class A>
struct OnlineLse {
  A max = A(0);
  A sum = A(0);

  // Merge a partial: sum_x e^{x - part_max} == part_sum.
  IMX_HD IMX_MI_INLINE void merge(A part_max, A part_sum) {
    if (!(part_sum > A(0))) return;
    if (!(sum > A(0))) {
      max = part_max;
      sum = part_sum;
    } else if (part_max > max) {
      sum = sum * math::exp(max - part_max) + part_sum;
      max = part_max;
    } else {
      sum += part_sum * math::exp(part_max - max);
    }
  }
  IMX_HD IMX_MI_INLINE void merge(const OnlineLse& o) { merge(o.max, o.sum); }
  // log(sum of e^x); -inf for an empty state.
  IMX_HD IMX_MI_INLINE A value() const { return sum > A(0) ? max + math::log(sum) : -A(INFINITY); }
};

}  // namespace imx::mi::terms
