// N-d index arithmetic shared by the broadcasting, strided-copy and reduction kernels: an index
// space (a shape) walked by K operands, each with its own strides. The host simplifies the
// space once per launch (size-1 axes dropped, axes that are contiguous for every operand
// merged), so that the per-element division loop on the device is as short as possible;
// a plain elementwise op over contiguous tensors ends up rank 1.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/ops/common.cuh"

namespace imx::IMX_KNS {

template <int K>
struct StridedSpace {
  Dims shape;         // row-major index space, after simplification
  Dims strides[K];    // per operand, same rank as shape
  int64_t numel = 1;  // product of shape (0 when any axis is empty)
};

// Offsets of the element with row-major position `linear` (< numel) in every operand. The
// outermost axis needs no division, so a rank-1 space costs one multiply per operand. The loop
// runs over the fixed maximum rank so that the compiler can unroll it and keep the shape and
// strides in registers (a loop bounded by the runtime rank indexes them dynamically, which
// puts them in local memory on the device).
template <int K>
IMX_HD void offsets_of(const StridedSpace<K>& s, int64_t linear, int64_t (&off)[K]) {
  for (int k = 0; k < K; ++k) off[k] = 0;
  for (int d = Dims::kMaxRank - 1; d > 0; --d) {
    if (d >= s.shape.rank) continue;
    const int64_t extent = s.shape.d[d];
    const int64_t i = linear % extent;
    linear /= extent;
    for (int k = 0; k < K; ++k) off[k] += i * s.strides[k].d[d];
  }
  if (s.shape.rank > 0)
    for (int k = 0; k < K; ++k) off[k] += linear * s.strides[k].d[0];
}

// Offset in operand 0 only (one-operand spaces).
IMX_HD int64_t offset_of(const StridedSpace<1>& s, int64_t linear) {
  int64_t off[1];
  offsets_of(s, linear, off);
  return off[0];
}

// Row-major contiguous strides of a shape.
inline Dims contiguous_strides(const Dims& shape) {
  Dims s;
  s.rank = shape.rank;
  int64_t acc = 1;
  for (int d = shape.rank - 1; d >= 0; --d) {
    s.d[d] = acc;
    acc *= shape.d[d];
  }
  return s;
}

inline void check_rank(const Dims& dims, int rank, const char* op, const char* what) {
  if (dims.rank < 0 || dims.rank > Dims::kMaxRank || dims.rank != rank)
    throw std::runtime_error(std::string("kernels/ops ") + op + ": " + what + " has rank " +
                             std::to_string(dims.rank) + ", expected " + std::to_string(rank) +
                             " (at most " + std::to_string(Dims::kMaxRank) + ")");
}

// Host: the simplified space for `shape` walked with `strides[k]` (each of shape's rank).
template <int K>
StridedSpace<K> make_space(const Dims& shape, const Dims (&strides)[K], const char* op) {
  check_rank(shape, shape.rank, op, "the shape");
  for (int k = 0; k < K; ++k) check_rank(strides[k], shape.rank, op, "a stride list");
  StridedSpace<K> s;
  for (int d = 0; d < shape.rank; ++d) {
    const int64_t extent = shape.d[d];
    if (extent < 0) throw std::runtime_error(std::string("kernels/ops ") + op + ": negative extent " + std::to_string(extent));
    s.numel *= extent;
    if (extent == 1) continue;  // its index is always 0
    const int r = s.shape.rank;
    bool merge = r > 0;  // with the previous kept axis: outer stride = inner stride * inner extent
    for (int k = 0; k < K && merge; ++k)
      merge = s.strides[k].d[r - 1] == strides[k].d[d] * extent;
    if (merge) {
      s.shape.d[r - 1] *= extent;
      for (int k = 0; k < K; ++k) s.strides[k].d[r - 1] = strides[k].d[d];
    } else {
      s.shape.d[r] = extent;
      for (int k = 0; k < K; ++k) s.strides[k].d[r] = strides[k].d[d];
      ++s.shape.rank;
    }
  }
  for (int k = 0; k < K; ++k) s.strides[k].rank = s.shape.rank;
  return s;
}

}  // namespace imx::IMX_KNS
