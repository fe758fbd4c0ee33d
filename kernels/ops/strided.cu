// Strided copies behind permute, slice and concatenate: gather a strided view into a contiguous
// tensor, and the reverse scatter-add. After the index-space simplification a slice of
// contiguous rows becomes a few long unit-stride axes.
#include "kernels/ops/common.cuh"
#include "kernels/ops/index.cuh"
#include "kernels/ops/launchers.h"

namespace imx::IMX_KNS {

namespace {

// The contiguous side's offset is the row-major position, which the simplification preserves.
IMX_KERNEL void gather_kernel(const float* src, float* dst, StridedSpace<1> space) {
  for_each_item<ThreadUnit>(space.numel, [&](int64_t i) { dst[i] = src[offset_of(space, i)]; });
}

// The caller guarantees that no two source elements share a destination, so no atomics.
IMX_KERNEL void scatter_add_kernel(const float* src, float* dst, StridedSpace<1> space) {
  for_each_item<ThreadUnit>(space.numel, [&](int64_t i) { dst[offset_of(space, i)] += src[i]; });
}

StridedSpace<1> strided_space(const Dims& shape, const Dims& strided, const char* op) {
  const Dims strides[1] = {strided};
  return make_space(shape, strides, op);
}

}  // namespace

void gather_strided(const float* src, int64_t offset, const Dims& src_strides, float* dst,
                    const Dims& dst_shape, cudaStream_t stream) {
  const StridedSpace<1> space = strided_space(dst_shape, src_strides, "gather_strided");
  if (space.numel == 0) return;
  IMX_LAUNCH(gather_kernel, blocks_for(space.numel, kBlock), kBlock, 0, stream)(src + offset, dst, space);
}

void scatter_add_strided(const float* src, const Dims& src_shape, float* dst, int64_t offset,
                         const Dims& dst_strides, cudaStream_t stream) {
  const StridedSpace<1> space = strided_space(src_shape, dst_strides, "scatter_add_strided");
  if (space.numel == 0) return;
  IMX_LAUNCH(scatter_add_kernel, blocks_for(space.numel, kBlock), kBlock, 0, stream)(src, dst + offset, space);
}

}  // namespace imx::IMX_KNS
