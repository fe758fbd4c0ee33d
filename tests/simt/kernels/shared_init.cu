// Static shared memory read as if it were initialised: the correct variants write before they
// read; the planted ones rely on zeros at the start or on what block 0 left behind, which the
// device does not guarantee (tests/simt/test_planted_results.cpp).
#include "tests/simt/kernels/simt_test_kernels.cuh"

namespace imx::IMX_KNS::simt_test {

namespace {

IMX_KERNEL void shared_block_total_kernel(const float* x, int n, bool zero_first, float* out) {
  IMX_SHARED(float, total);
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (zero_first && threadIdx.x == 0) total = 0.0f;
  __syncthreads();
  for (unsigned t = 0; t < blockDim.x; ++t) {  // one thread at a time: no atomics needed
    if (threadIdx.x == t && i < n) total += x[i];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}

IMX_KERNEL void shared_table_kernel(const float* lut, const float* x, int n, bool every_block_loads, float* out) {
  IMX_SHARED(float[kSharedTable], table);
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if ((every_block_loads || blockIdx.x == 0) && threadIdx.x < kSharedTable) table[threadIdx.x] = lut[threadIdx.x];
  __syncthreads();
  if (i < n) out[i] = x[i] * table[i % kSharedTable];
}

}  // namespace

void shared_block_totals(const float* x, int n, int block, bool zero_first, float* out, cudaStream_t stream) {
  IMX_LAUNCH(shared_block_total_kernel, (n + block - 1) / block, block, 0, stream)(x, n, zero_first, out);
}

void shared_table_scale(const float* lut, const float* x, int n, int block, bool every_block_loads, float* out,
                        cudaStream_t stream) {
  IMX_LAUNCH(shared_table_kernel, (n + block - 1) / block, block, 0, stream)(lut, x, n, every_block_loads, out);
}

}  // namespace imx::IMX_KNS::simt_test
