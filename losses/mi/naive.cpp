// The transparent reference: materializes everything the way a framework would and applies
// the formulas exactly as the reference table writes them, with the standard library's math.
// It shares no per-pair code with the fused/unfused kernels (terms.h), so the tests compare two
// independent derivations. infoNCE builds the authors' (B*K*P) x (1 + B*P) logits tensor
// (same-image entries set to -10, or removed for infonce-exact) and backpropagates through its
// log-softmax.
#include <algorithm>
#include <cmath>
#include <limits>

#include "blas/gemm.h"
#include "losses/mi/mi.h"
#include "losses/mi/parallel.h"
#include "losses/mi/scratch.h"

namespace imx::mi {
namespace {

constexpr double kLn2 = 0.69314718055994530942;

template <class T>
T softplus(T x) {  // log(1 + e^x), written so that neither branch overflows
  return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// E_pos and E_neg of the reference table, and their derivatives.
template <class T>
T e_pos(Estimator e, T s) {
  switch (e) {
    case Estimator::gan: return -softplus(-s);
    case Estimator::jsd: return T(kLn2) - softplus(-s);
    case Estimator::kl: return s;
    case Estimator::rkl: return -std::exp(-s);
    case Estimator::h2: return T(1) - std::exp(-s);
    case Estimator::x2: return s * s;
    case Estimator::w1: return s;
    default: return std::numeric_limits<T>::quiet_NaN();
  }
}

template <class T>
T e_neg(Estimator e, T s) {
  switch (e) {
    case Estimator::gan: return softplus(-s) + s;
    case Estimator::jsd: return softplus(-s) + s - T(kLn2);
    case Estimator::kl: return std::exp(s - T(1));
    case Estimator::rkl: return s - T(1);
    case Estimator::h2: return std::exp(s) - T(1);
    case Estimator::x2: return T(-0.5) * (std::sqrt(s * s) + T(1)) * (std::sqrt(s * s) + T(1));
    case Estimator::w1: return s;
    default: return std::numeric_limits<T>::quiet_NaN();
  }
}

template <class T>
T e_pos_grad(Estimator e, T s) {
  switch (e) {
    case Estimator::gan:
    case Estimator::jsd: return T(1) / (T(1) + std::exp(s));  // sigma(-s)
    case Estimator::kl: return T(1);
    case Estimator::rkl: return std::exp(-s);
    case Estimator::h2: return std::exp(-s);
    case Estimator::x2: return T(2) * s;
    case Estimator::w1: return T(1);
    default: return std::numeric_limits<T>::quiet_NaN();
  }
}

template <class T>
T e_neg_grad(Estimator e, T s) {
  switch (e) {
    case Estimator::gan:
    case Estimator::jsd: return T(1) - T(1) / (T(1) + std::exp(s));  // 1 - sigma(-s)
    case Estimator::kl: return std::exp(s - T(1));
    case Estimator::rkl: return T(1);
    case Estimator::h2: return std::exp(s);
    case Estimator::x2: {
      const T a = std::sqrt(s * s);
      return a > T(0) ? -(a + T(1)) * s / a : T(0);  // d/ds of -0.5 (|s| + 1)^2; 0 at the kink
    }
    case Estimator::w1: return T(1);
    default: return std::numeric_limits<T>::quiet_NaN();
  }
}

bool is_self(int64_t r, int64_t c, const Problem& pb) { return r / pb.K == c / pb.P; }

// loss = mean_neg E_neg - mean_pos E_pos.
template <class T>
double fdiv_loss(const Problem& pb, Estimator e, const T* S, T* dS, int threads) {
  const int64_t R = pb.rows(), C = pb.cols();
  const double npos = double(pb.positives()), nneg = double(pb.negatives());
  double pos = 0, neg = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : pos, neg)
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const T s = S[r * C + c];
      if (is_self(r, c, pb)) {
        pos += double(e_pos(e, s));
        if (dS) dS[r * C + c] = T(-double(e_pos_grad(e, s)) / npos);
      } else {
        neg += double(e_neg(e, s));
        if (dS) dS[r * C + c] = T(double(e_neg_grad(e, s)) / nneg);
      }
    }
  return neg / nneg - pos / npos;
}

// loss = log(mean over negatives of e^s) - mean over positives of s.
template <class T>
double dv_loss(const Problem& pb, const T* S, T* dS) {
  const int64_t R = pb.rows(), C = pb.cols();
  double max_neg = -std::numeric_limits<double>::infinity(), pos = 0;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) {
      if (is_self(r, c, pb)) pos += double(S[r * C + c]);
      else max_neg = std::max(max_neg, double(S[r * C + c]));
    }
  double z = 0;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c)
      if (!is_self(r, c, pb)) z += std::exp(double(S[r * C + c]) - max_neg);
  const double npos = double(pb.positives()), nneg = double(pb.negatives());
  if (dS)
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < C; ++c)
        dS[r * C + c] = is_self(r, c, pb) ? T(-1.0 / npos) : T(std::exp(double(S[r * C + c]) - max_neg) / z);
  return max_neg + std::log(z / nneg) - pos / npos;
}

int64_t logits_width(const Problem& pb, bool self_fill) {
  return 1 + (self_fill ? pb.cols() : pb.cols() - pb.P);
}

// The authors' formulation: one row of logits per positive pair (r, p): the positive score,
// then every score of row r with same-image entries replaced by -10 (self_fill) or dropped.
// loss = -mean log_softmax(logits)[0]; the logits gradient softmax - onehot(0) is scattered back.
template <class T>
double infonce_loss(const Problem& pb, bool self_fill, const T* S, T* dS, T* logits, int threads) {
  const int64_t R = pb.rows(), C = pb.cols(), P = pb.P, W = logits_width(pb, self_fill);
  const double npos = double(pb.positives());
  double loss = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : loss)
  for (int64_t r = 0; r < R; ++r) {
    const int64_t first = (r / pb.K) * P;
    for (int64_t p = 0; p < P; ++p) {
      T* x = logits + (r * P + p) * W;
      int64_t k = 0;
      x[k++] = S[r * C + first + p];
      for (int64_t c = 0; c < C; ++c) {
        if (!is_self(r, c, pb)) x[k++] = S[r * C + c];
        else if (self_fill) x[k++] = T(-10);
      }
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < W; ++j) m = std::max(m, double(x[j]));
      double z = 0;
      for (int64_t j = 0; j < W; ++j) z += std::exp(double(x[j]) - m);
      const double lse = m + std::log(z);
      loss += lse - double(x[0]);
      if (!dS) continue;
      // d(-log_softmax[0]) / dx_j = softmax_j - [j == 0], then / npos for the mean.
      for (int64_t j = 0; j < W; ++j) x[j] = T((std::exp(double(x[j]) - lse) - (j == 0)) / npos);
      k = 0;
      dS[r * C + first + p] += x[k++];
      for (int64_t c = 0; c < C; ++c) {
        if (!is_self(r, c, pb)) dS[r * C + c] += x[k++];
        else if (self_fill) ++k;  // the -10 constants receive no gradient
      }
    }
  }
  return loss / npos;
}

bool is_infonce(Estimator e) { return e == Estimator::infonce || e == Estimator::infonce_exact; }

}  // namespace

std::size_t naive_bytes(const Problem& pb, Estimator e, std::size_t elem_bytes, bool with_grads,
                        const Options&) {
  pb.validate();
  const std::size_t scores = std::size_t(pb.rows()) * std::size_t(pb.cols()) * elem_bytes;
  std::size_t bytes = scores * (with_grads ? 2 : 1);
  if (is_infonce(e))
    bytes += std::size_t(pb.positives()) * std::size_t(logits_width(pb, e == Estimator::infonce)) * elem_bytes;
  return bytes;
}

template <class T>
T naive(const Problem& pb, Estimator e, const T* local, const T* global, Gradients<T> grads,
        const Options& opt) {
  pb.validate_for(e);
  const int threads = resolve_threads(opt);
  blas::ScopedThreads blas_threads(threads);
  const int64_t R = pb.rows(), C = pb.cols(), D = pb.D;
  MemoryMeter meter;
  double loss;
  {
    Scratch<T> S(meter, std::size_t(R) * C);
    blas::gemm<T>(false, true, R, C, D, T(1), global, D, local, D, T(0), S.data(), C);
    Scratch<T> dS;
    if (grads.any()) {
      dS = Scratch<T>(meter, std::size_t(R) * C);
      dS.fill(T(0));
    }
    if (e == Estimator::dv) {
      loss = dv_loss(pb, S.data(), dS.data());
    } else if (is_infonce(e)) {
      const bool self_fill = e == Estimator::infonce;
      Scratch<T> logits(meter, std::size_t(pb.positives()) * logits_width(pb, self_fill));
      loss = infonce_loss(pb, self_fill, S.data(), dS.data(), logits.data(), threads);
    } else {
      loss = fdiv_loss(pb, e, S.data(), dS.data(), threads);
    }
    const T alpha = T(opt.grad_scale);
    if (grads.global)
      blas::gemm<T>(false, false, R, D, C, alpha, dS.data(), C, local, D, T(0), grads.global, D);
    if (grads.local)
      blas::gemm<T>(true, false, C, D, R, alpha, dS.data(), C, global, D, T(0), grads.local, D);
  }
  if (opt.peak_extra_bytes) *opt.peak_extra_bytes = meter.peak();
  return T(loss);
}

template float naive<float>(const Problem&, Estimator, const float*, const float*, Gradients<float>,
                            const Options&);
template double naive<double>(const Problem&, Estimator, const double*, const double*,
                              Gradients<double>, const Options&);

}  // namespace imx::mi
