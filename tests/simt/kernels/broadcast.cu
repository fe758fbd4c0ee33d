// Thread 0 broadcasts a value through shared memory; the planted variant forgets the
// barrier between its write and the other threads' reads.
#include "tests/simt/kernels/simt_test_kernels.cuh"

namespace imx::IMX_KNS::simt_test {

namespace {

template <bool kBarrier>
IMX_KERNEL void broadcast_scale_kernel(const float* x, int n, float* out) {
  IMX_SHARED(float, scale);
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (threadIdx.x == 0) scale = x[blockIdx.x * blockDim.x];
  if constexpr (kBarrier) __syncthreads();
  if (i < n) out[i] = x[i] * scale;
}

}  // namespace

void broadcast_scale(const float* x, int n, int block, bool missing_barrier, float* out, cudaStream_t stream) {
  const int grid = (n + block - 1) / block;
  if (missing_barrier) {
    IMX_LAUNCH(broadcast_scale_kernel<false>, grid, block, 0, stream)(x, n, out);
  } else {
    IMX_LAUNCH(broadcast_scale_kernel<true>, grid, block, 0, stream)(x, n, out);
  }
}

}  // namespace imx::IMX_KNS::simt_test
