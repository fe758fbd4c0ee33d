// Test data and references for the SIMT tests: plain C++, usable from either build.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace imx::simt_test {

// Integers in [lo, hi]: products and sums of them are exact in float, so tiling or
// indexing mistakes show up as unmistakable mismatches rather than rounding noise.
inline std::vector<int> random_ints(std::size_t n, int lo, int hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int> values(n);
  for (int& v : values) v = dist(rng);
  return values;
}

inline std::vector<float> random_int_floats(std::size_t n, int lo, int hi, std::uint64_t seed) {
  const std::vector<int> ints = random_ints(n, lo, hi, seed);
  return std::vector<float>(ints.begin(), ints.end());
}

// C = A * B in double, row-major, the reference for the tiled kernels.
inline std::vector<double> reference_matmul(const std::vector<float>& a, const std::vector<float>& b, int m, int n,
                                            int k) {
  std::vector<double> c(static_cast<std::size_t>(m) * n, 0.0);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int p = 0; p < k; ++p) {
        sum += static_cast<double>(a[static_cast<std::size_t>(i) * k + p]) * b[static_cast<std::size_t>(p) * n + j];
      }
      c[static_cast<std::size_t>(i) * n + j] = sum;
    }
  }
  return c;
}

// Largest |got - want|; NaN in `got` counts as infinitely wrong.
template <class T, class U>
double max_abs_error(const std::vector<T>& got, const std::vector<U>& want) {
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size() && i < want.size(); ++i) {
    const double diff = std::abs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (std::isnan(diff)) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, diff);
  }
  return worst;
}

}  // namespace imx::simt_test
