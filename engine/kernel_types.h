// Plain types shared by the engine and the hand-written kernels (no engine dependencies, so
// kernel sources compiled by nvcc or by the SIMT emulation can include it).
#pragma once
#include <cstdint>

namespace imx {

enum class Unary { Relu, Sigmoid, Softplus, Exp, Log, Neg, Square, Sqrt };
enum class Binary { Add, Sub, Mul, Div };

struct ConvGeometry {
  int64_t n, c_in, h_in, w_in;     // input
  int64_t c_out, kh, kw;           // filter
  int64_t stride, pad;             // same along both spatial axes
  int64_t h_out, w_out;            // derived
};

struct PoolGeometry {
  int64_t n, c, h_in, w_in, k, stride, pad, h_out, w_out;
};

// Batch-norm and layer-norm see x as [outer, C, inner].
struct NormGeometry {
  int64_t outer, channels, inner;
};

// A shape or a stride list small enough to pass to a kernel by value.
struct Dims {
  static constexpr int kMaxRank = 8;
  int rank = 0;
  int64_t d[kMaxRank] = {};
};

}  // namespace imx
