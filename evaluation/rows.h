// Row selection on [N, F] CPU matrices, for minibatches drawn by index.
#pragma once
#include <cstdint>
#include <span>

#include "engine/tensor.h"

namespace imx::eval {

// [idx.size(), F]: rows idx[0], idx[1], ... of x (float32, CPU), copied.
Tensor gather_rows(const Tensor& x, std::span<const uint32_t> idx);

// The first n rows of x (all of them when n is 0 or at least x's row count), copied.
Tensor first_rows(const Tensor& x, int64_t n);

}  // namespace imx::eval
