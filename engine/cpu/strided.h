// Walking N-d index spaces with per-operand strides: the one piece of index arithmetic behind
// broadcasting, permutes, slices, concatenation and reductions on the CPU.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "engine/core.h"

namespace imx::cpu {

// Row-major contiguous strides of a shape.
Shape contiguous_strides(const Shape& shape);

// Strides that read `in` broadcast to `out` (right-aligned; size-1 axes get stride 0).
Shape broadcast_strides(const Shape& in, const Shape& out);

// Calls f(row_offsets, inner_len, inner_strides) for every row of `shape` (all axes but the
// last), in parallel. Offsets are per operand, from that operand's strides (shape.size() each).
template <size_t K, class F>
void for_each_row(const Shape& shape, const std::array<const int64_t*, K>& strides, F&& f) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t inner = rank ? shape[rank - 1] : 1;
  const int64_t rows = inner ? numel(shape) / inner : 0;
  std::array<int64_t, K> inner_strides{};
  for (size_t k = 0; k < K; ++k) inner_strides[k] = rank ? strides[k][rank - 1] : 0;
#pragma omp parallel for schedule(static) if (rows * inner > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    std::array<int64_t, K> off{};
    int64_t rest = r;
    for (int64_t d = rank - 2; d >= 0; --d) {
      const int64_t i = rest % shape[d];
      rest /= shape[d];
      for (size_t k = 0; k < K; ++k) off[k] += i * strides[k][d];
    }
    f(off, inner, inner_strides);
  }
}

}  // namespace imx::cpu
