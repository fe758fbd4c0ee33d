// out = a op b with broadcasting: a and b are read through strides over out's shape (0 along
// broadcast axes). The index space is simplified on the host (kernels/ops/index.cuh); when it
// collapses to one axis with unit strides, the kernel skips the index arithmetic.
#include "kernels/ops/common.cuh"
#include "kernels/ops/index.cuh"
#include "kernels/ops/launchers.h"

namespace imx::IMX_KNS {

namespace {

IMX_DEVICE float binary_value(Binary op, float a, float b) {
  switch (op) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
  }
  return a;
}

// Operands 0 and 1 are a and b; out is contiguous, so its offset is the row-major position,
// which the simplification preserves.
IMX_KERNEL void binary_kernel(Binary op, const float* a, const float* b, float* out,
                              StridedSpace<2> space) {
  for_each_item<ThreadUnit>(space.numel, [&](int64_t i) {
    int64_t off[2];
    offsets_of(space, i, off);
    out[i] = binary_value(op, a[off[0]], b[off[1]]);
  });
}

IMX_KERNEL void binary_contiguous_kernel(Binary op, const float* a, const float* b, float* out,
                                         int64_t n) {
  for_each_item<ThreadUnit>(n, [&](int64_t i) { out[i] = binary_value(op, a[i], b[i]); });
}

}  // namespace

void binary(Binary op, const float* a, const Dims& a_strides, const float* b,
            const Dims& b_strides, float* out, const Dims& out_shape, cudaStream_t stream) {
  const Dims strides[2] = {a_strides, b_strides};
  const StridedSpace<2> space = make_space(out_shape, strides, "binary");
  if (space.numel == 0) return;
  const unsigned grid = blocks_for(space.numel, kBlock);
  const bool contiguous = space.shape.rank == 0 ||
      (space.shape.rank == 1 && space.strides[0].d[0] == 1 && space.strides[1].d[0] == 1);
  if (contiguous) {
    IMX_LAUNCH(binary_contiguous_kernel, grid, kBlock, 0, stream)(op, a, b, out, space.numel);
    return;
  }
  IMX_LAUNCH(binary_kernel, grid, kBlock, 0, stream)(op, a, b, out, space);
}

}  // namespace imx::IMX_KNS
