// Synthetic data with known answers for the evaluation tests.
#pragma once
#include <cmath>
#include <random>
#include <vector>

#include "engine/tensor.h"

namespace imx::eval::testing {

// n rows of d standard normals.
inline std::vector<double> normals(int64_t n, int64_t d, std::mt19937_64& rng) {
  std::normal_distribution<double> g;
  std::vector<double> v(n * d);
  for (auto& x : v) x = g(rng);
  return v;
}

// Classes as separated Gaussian blobs: class c has mean `spread` in coordinate c (d >= classes),
// unit noise elsewhere; labels cycle 0, 1, ... classes-1.
struct Blobs {
  Tensor x;
  std::vector<int32_t> labels;
};
inline Blobs blobs(int64_t n, int64_t d, int64_t classes, double spread, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> v = normals(n, d, rng);
  Blobs b;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t c = static_cast<int32_t>(i % classes);
    v[i * d + c] += spread;
    b.labels.push_back(c);
  }
  b.x = Tensor::from(v, {n, d});
  return b;
}

}  // namespace imx::eval::testing
