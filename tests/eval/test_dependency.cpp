// NDM and MINE against analytic answers on Gaussians: the total correlation of N(0, C) with
// unit variances is -1/2 log det C; for X, Y jointly Gaussian with correlation rho in each of d
// coordinate pairs, I(X;Y) = -d/2 log(1 - rho^2). Both measures are DV lower bounds from a
// trained critic on held-out samples, so they may fall a little short: the tolerance is 0.12
// nats (about 15% of each answer), far below the gap to the independent case (0).
#include <catch.hpp>
#include <cmath>

#include "evaluation/dependency.h"
#include "synthetic.h"

using namespace imx;
using namespace imx::eval;

namespace {

constexpr double kTolerance = 0.12;

// Rows of N(0, C) with C = (1 - rho) I + rho 11^T (every pair of dimensions correlated rho):
// y = sqrt(1 - rho) z + sqrt(rho) s 1, s shared by the row.
Tensor equicorrelated(int64_t n, int64_t d, double rho, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> z = testing::normals(n, d + 1, rng), y(n * d);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j)
      y[i * d + j] = std::sqrt(1 - rho) * z[i * (d + 1) + j] + std::sqrt(rho) * z[i * (d + 1) + d];
  return Tensor::from(y, {n, d});
}

// det C = (1 - rho)^(d-1) (1 + (d - 1) rho).
double total_correlation(int64_t d, double rho) {
  return -0.5 * ((d - 1) * std::log(1 - rho) + std::log(1 + (d - 1) * rho));
}

// X and Y [n, d], corr(x_j, y_j) = rho, other pairs independent.
std::pair<Tensor, Tensor> correlated_pairs(int64_t n, int64_t d, double rho, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> x = testing::normals(n, d, rng), e = testing::normals(n, d, rng), y(n * d);
  for (int64_t i = 0; i < n * d; ++i) y[i] = rho * x[i] + std::sqrt(1 - rho * rho) * e[i];
  return {Tensor::from(x, {n, d}), Tensor::from(y, {n, d})};
}

DvOptions quick(int64_t steps, std::vector<int64_t> hidden = {}) {
  DvOptions o;
  o.steps = steps;
  o.batch = 256;
  o.lr = 1e-3;
  o.hidden = std::move(hidden);
  o.seed = 7;
  return o;
}

}  // namespace

TEST_CASE("NDM finds the total correlation of correlated Gaussians", "[eval][dependency]") {
  const int64_t d = 4;
  const double rho = 0.6;
  const double expected = total_correlation(d, rho);  // 0.86 nats
  const double ndm = neural_dependency_measure(equicorrelated(20000, d, rho, 1), equicorrelated(5000, d, rho, 2),
                                               quick(250));
  INFO("NDM " << ndm << " nats, analytic " << expected);
  CHECK(std::abs(ndm - expected) < kTolerance);
}

TEST_CASE("NDM of independent dimensions is about zero", "[eval][dependency]") {
  const double ndm = neural_dependency_measure(equicorrelated(20000, 4, 0.0, 3), equicorrelated(5000, 4, 0.0, 4),
                                               quick(150));
  INFO("NDM " << ndm);
  CHECK(std::abs(ndm) < 0.05);
}

TEST_CASE("MINE finds I(X;Y) of jointly Gaussian pairs", "[eval][dependency]") {
  const int64_t d = 2;
  const double rho = 0.8;
  const double expected = -0.5 * d * std::log(1 - rho * rho);  // 1.02 nats
  const auto [xtr, ytr] = correlated_pairs(20000, d, rho, 5);
  const auto [xte, yte] = correlated_pairs(5000, d, rho, 6);
  const double mi = mine_mutual_information(xtr, ytr, xte, yte, quick(400, {128, 128}));
  INFO("MINE " << mi << " nats, analytic " << expected);
  CHECK(std::abs(mi - expected) < kTolerance);
}

TEST_CASE("shuffling each column keeps every marginal", "[eval][dependency]") {
  const Tensor y = equicorrelated(100, 3, 0.5, 8);
  const Tensor s = shuffle_each_column(y, 9);
  const std::vector<double> a = y.to_vector(), b = s.to_vector();
  for (int64_t j = 0; j < 3; ++j) {
    std::vector<double> ca, cb;
    for (int64_t i = 0; i < 100; ++i) ca.push_back(a[i * 3 + j]), cb.push_back(b[i * 3 + j]);
    CHECK(ca != cb);
    std::sort(ca.begin(), ca.end());
    std::sort(cb.begin(), cb.end());
    CHECK(ca == cb);
  }
}
