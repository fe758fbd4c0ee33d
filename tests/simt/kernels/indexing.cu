// Thread and block coordinates over arbitrary 3D grids.
#include "tests/simt/kernels/simt_test_kernels.cuh"

namespace imx::IMX_KNS::simt_test {

namespace {

IMX_KERNEL void write_thread_indices_kernel(unsigned* out) {
  const unsigned threads_per_block = blockDim.x * blockDim.y * blockDim.z;
  const unsigned block_linear = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned thread_linear = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  unsigned* slot = out + (static_cast<size_t>(block_linear) * threads_per_block + thread_linear) * kIndexFields;
  slot[kThreadX] = threadIdx.x;
  slot[kThreadY] = threadIdx.y;
  slot[kThreadZ] = threadIdx.z;
  slot[kBlockX] = blockIdx.x;
  slot[kBlockY] = blockIdx.y;
  slot[kBlockZ] = blockIdx.z;
  slot[kBlockDimX] = blockDim.x;
  slot[kBlockDimY] = blockDim.y;
  slot[kBlockDimZ] = blockDim.z;
  slot[kGridDimX] = gridDim.x;
  slot[kGridDimY] = gridDim.y;
  slot[kGridDimZ] = gridDim.z;
  slot[kWarpSize] = warpSize;
}

}  // namespace

void write_thread_indices(dim3 grid, dim3 block, unsigned* out, cudaStream_t stream) {
  IMX_LAUNCH(write_thread_indices_kernel, grid, block, 0, stream)(out);
}

}  // namespace imx::IMX_KNS::simt_test
