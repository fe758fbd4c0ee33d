// Elementwise math for the MI loss, shared by the CPU kernels and (later) the CUDA kernel.
//
// Why not std::exp: the CPU kernels evaluate one exp per score, and glibc only offers a
// vectorized exp under -ffast-math (which would also break the inf/NaN semantics the loss
// relies on). These branch-free versions vectorize under `#pragma omp simd` and are accurate to
// a few ulp. On the device the native functions are used instead.
//
// Only <cmath> is used so that this header can be compiled by nvcc for device code.
#pragma once
#include <cmath>

#ifndef IMX_HD
#if defined(__CUDACC__)
#define IMX_HD __host__ __device__
#else
#define IMX_HD
#endif
#endif

// Forced inlining: the CPU kernels' per-score loops vectorize only when these functions (and
// the estimator terms built on them) are inlined into the loop body, and GCC's heuristics stop
// doing so once a loop holds several of them.
#ifndef IMX_MI_INLINE
#if defined(__CUDACC__)
#define IMX_MI_INLINE __forceinline__
#elif defined(__GNUC__)
#define IMX_MI_INLINE inline __attribute__((always_inline))
#else
#define IMX_MI_INLINE inline
#endif
#endif

namespace imx::mi::math {

namespace detail {

// Per-precision constants of the exp/log1p evaluations below.
template <class T> struct Consts;

template <> struct Consts<float> {
  using Bits = int;
  static constexpr int mantissa_bits = 23;
  static constexpr int exponent_bias = 127;
  // Clamp range: wide enough that exp() over/underflows naturally through the split scaling.
  static constexpr float clamp_lo = -104.0f, clamp_hi = 89.0f;
  static constexpr float round_magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  static constexpr int exp_degree = 7;               // Taylor degree: error < 1e-8 on |r| <= ln2/2
  static constexpr int log1p_terms = 8;              // atanh series terms: error < 2e-8 on [0,1]
};

template <> struct Consts<double> {
  using Bits = long long;
  static constexpr int mantissa_bits = 52;
  static constexpr int exponent_bias = 1023;
  static constexpr double clamp_lo = -746.0, clamp_hi = 710.0;
  static constexpr double round_magic = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr int exp_degree = 13;                      // error < 5e-18 on |r| <= ln2/2
  static constexpr int log1p_terms = 18;                     // error < 2e-18 on [0,1]
};

// 2^k for an integer-valued k that keeps the biased exponent in the normal range.
template <class T>
IMX_HD IMX_MI_INLINE T pow2_int(typename Consts<T>::Bits k) {
  using C = Consts<T>;
  const typename C::Bits bits = (k + C::exponent_bias) << C::mantissa_bits;
  return __builtin_bit_cast(T, bits);
}

}  // namespace detail

// e^x: Cody-Waite reduction x = k*ln2 + r, Taylor polynomial in r, and 2^k applied as two
// halves so that results near the overflow/underflow limits round exactly like exp (inf above,
// gradual underflow to 0 below). NaN propagates.
template <class T>
IMX_HD IMX_MI_INLINE T exp(T x) {
#if defined(__CUDA_ARCH__)
  return ::exp(x);
#else
  using C = detail::Consts<T>;
  const T ln2_hi = T(0.693145751953125);              // ln2 rounded to 16 bits: k*ln2_hi is exact
  const T ln2_lo = T(1.42860682030941723212e-6);
  const T log2e = T(1.44269504088896340736);
  T xc = x < C::clamp_lo ? C::clamp_lo : x;
  xc = xc > C::clamp_hi ? C::clamp_hi : xc;
  const T k = (xc * log2e + C::round_magic) - C::round_magic;
  T r = std::fma(-k, ln2_hi, xc);
  r = std::fma(-k, ln2_lo, r);
  // Horner evaluation of sum_{n<=degree} r^n / n! as 1 + r/1 (1 + r/2 (1 + ...)); the loop has a
  // constant trip count, so it unrolls and 1/n folds to a constant (no division).
  T p = T(1);
  for (int n = C::exp_degree; n >= 1; --n) p = std::fma(p, r * (T(1) / T(n)), T(1));
  const auto ki = static_cast<typename C::Bits>(k);
  const auto k_half = ki >> 1;
  const T y = p * detail::pow2_int<T>(k_half) * detail::pow2_int<T>(ki - k_half);
  return x != x ? x : y;
#endif
}

// log(1 + u) for u in [0, 1] (the only range softplus needs): log1p(u) = 2 atanh(t) with
// t = u / (2 + u) in [0, 1/3], summed as an odd power series in t.
template <class T>
IMX_HD IMX_MI_INLINE T log1p_unit(T u) {
#if defined(__CUDA_ARCH__)
  return ::log1p(u);
#else
  using C = detail::Consts<T>;
  const T t = u / (T(2) + u);
  const T t2 = t * t;
  T sum = T(0);
  for (int n = C::log1p_terms - 1; n >= 0; --n) sum = std::fma(sum, t2, T(1) / T(2 * n + 1));
  return T(2) * t * sum;
#endif
}

// Natural log, used once per row/group (not per score), so the library version is fine on host.
template <class T>
IMX_HD IMX_MI_INLINE T log(T x) {
#if defined(__CUDA_ARCH__)
  return ::log(x);
#else
  return std::log(x);
#endif
}

// softplus(x) = log(1 + e^x) without overflow: max(x, 0) + log1p(e^{-|x|}).
template <class T>
IMX_HD IMX_MI_INLINE T softplus(T x) {
  const T ax = x < T(0) ? -x : x;
  return (x > T(0) ? x : T(0)) + log1p_unit(math::exp(-ax));
}

// Logistic sigmoid 1 / (1 + e^{-x}) without overflow for either sign.
template <class T>
IMX_HD IMX_MI_INLINE T sigmoid(T x) {
  const T ax = x < T(0) ? -x : x;
  const T e = math::exp(-ax);  // in (0, 1]
  const T hi = T(1) / (T(1) + e);
  return x >= T(0) ? hi : e * hi;
}

}  // namespace imx::mi::math
