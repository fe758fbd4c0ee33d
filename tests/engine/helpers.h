#pragma once
#include <catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace testing {

inline imx::Tensor random_tensor(const imx::Shape& s, uint64_t seed, imx::DType dt = imx::DType::F64,
                                 double lo = -1, double hi = 1) {
  imx::Generator gen(seed);
  return imx::uniform(s, lo, hi, gen, dt);
}

// max |a - b| / max(1, max |b|): the error relative to the largest reference entry.
inline double rel_error(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double err = 0, scale = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    // A NaN would pass through std::max unseen: one that is not in both is an infinite error.
    if (std::isnan(a[i]) != std::isnan(b[i])) return std::numeric_limits<double>::infinity();
    err = std::max(err, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return err / scale;
}

}  // namespace testing
