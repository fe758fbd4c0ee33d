// Test data and error measures for the MI loss tests.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "losses/mi/mi.h"

namespace imx::mi::test {

// L (B x P x D) and G (B x K x D) in double. Each image j has a direction u_j; its locals are
// u_j + noise and its globals u_j + less noise, so positives tend to score higher than
// negatives (as after some training) and the losses are not near zero by accident. The whole
// thing is then scaled so that the largest |score| equals max_abs_score.
struct Features {
  Problem pb;
  std::vector<double> local, global;
};

inline std::vector<double> scores_of(const Problem& pb, const std::vector<double>& L,
                                     const std::vector<double>& G) {
  std::vector<double> S(pb.rows() * pb.cols());
  for (int64_t r = 0; r < pb.rows(); ++r)
    for (int64_t c = 0; c < pb.cols(); ++c) {
      double s = 0;
      for (int64_t d = 0; d < pb.D; ++d) s += G[r * pb.D + d] * L[c * pb.D + d];
      S[r * pb.cols() + c] = s;
    }
  return S;
}

inline Features make_features(const Problem& pb, double max_abs_score, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> u(pb.B * pb.D);
  for (double& x : u) x = normal(rng);
  Features f{pb, std::vector<double>(pb.cols() * pb.D), std::vector<double>(pb.rows() * pb.D)};
  for (int64_t c = 0; c < pb.cols(); ++c)
    for (int64_t d = 0; d < pb.D; ++d) f.local[c * pb.D + d] = u[(c / pb.P) * pb.D + d] + normal(rng);
  for (int64_t r = 0; r < pb.rows(); ++r)
    for (int64_t d = 0; d < pb.D; ++d)
      f.global[r * pb.D + d] = u[(r / pb.K) * pb.D + d] + 0.5 * normal(rng);
  double max_s = 0;
  for (double s : scores_of(pb, f.local, f.global)) max_s = std::max(max_s, std::abs(s));
  const double scale = std::sqrt(max_abs_score / max_s);
  for (double& x : f.local) x *= scale;
  for (double& x : f.global) x *= scale;
  return f;
}

template <class T, class U>
std::vector<T> cast(const std::vector<U>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// max |x - ref| / max |ref|: the error relative to the largest reference entry.
template <class T>
double rel_err(const std::vector<T>& x, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num = std::max(num, std::abs(double(x[i]) - ref[i]));
    den = std::max(den, std::abs(ref[i]));
  }
  return den > 0 ? num / den : num;
}

inline double rel_err(double x, double ref) {
  return ref != 0 ? std::abs(x - ref) / std::abs(ref) : std::abs(x);
}

template <class T>
bool all_finite(const std::vector<T>& v) {
  return std::all_of(v.begin(), v.end(), [](T x) { return std::isfinite(x); });
}

// Loss and both gradients of one implementation.
template <class T>
struct Outcome {
  double loss;
  std::vector<T> dlocal, dglobal;
};

template <class T>
Outcome<T> run(Impl impl, const Problem& pb, Estimator e, const std::vector<T>& L,
               const std::vector<T>& G, const Options& opt = {}) {
  Outcome<T> out{0, std::vector<T>(L.size(), T(-7)), std::vector<T>(G.size(), T(-7))};
  out.loss = double(compute<T>(impl, pb, e, L.data(), G.data(), {out.dlocal.data(), out.dglobal.data()}, opt));
  return out;
}

}  // namespace imx::mi::test
