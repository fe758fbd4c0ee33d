// Bugs that only the sanitizer builds can see (the results may even come out right):
// run by planted_bug_driver, whose ctest entries pass when the sanitizer reports them.
#include "tests/simt/kernels/simt_test_kernels.cuh"

namespace imx::IMX_KNS::simt_test {

namespace {

constexpr int kWarp = 32;

// Off-by-one bounds check: the thread with i == n writes one element past the end.
IMX_KERNEL void write_one_past_end_kernel(float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out[i] = static_cast<float>(i);
}

// Shifted index into a static shared array: thread 31 writes tile[32].
IMX_KERNEL void shared_one_past_end_kernel(float* out) {
  IMX_SHARED(float[kWarp], tile);
  tile[threadIdx.x + 1] = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x % kWarp];
}

IMX_KERNEL void dynamic_shared_one_past_end_kernel(float* out) {
  IMX_DYNAMIC_SHARED(float, tile);
  tile[threadIdx.x + 1] = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x % kWarp];
}

// Warp-synchronous exchange that relies on implicit lockstep: the __syncwarp() between the
// write and the neighbour's read is missing.
IMX_KERNEL void missing_syncwarp_kernel(const float* x, float* out) {
  IMX_SHARED(float[kWarp], stage);
  const unsigned lane = threadIdx.x;
  stage[lane] = x[lane] * 2.0f;
  out[lane] = stage[lane ^ 1u];
}

}  // namespace

void write_one_past_end(float* out, int n, cudaStream_t stream) {
  IMX_LAUNCH(write_one_past_end_kernel, (n + 63) / 64 + 1, 64, 0, stream)(out, n);
}

void shared_one_past_end(float* out, cudaStream_t stream) {
  IMX_LAUNCH(shared_one_past_end_kernel, 1, kWarp, 0, stream)(out);
}

void dynamic_shared_one_past_end(float* out, cudaStream_t stream) {
  IMX_LAUNCH(dynamic_shared_one_past_end_kernel, 1, kWarp, kWarp * sizeof(float), stream)(out);
}

void missing_syncwarp(const float* x, float* out, cudaStream_t stream) {
  IMX_LAUNCH(missing_syncwarp_kernel, 1, kWarp, 0, stream)(x, out);
}

}  // namespace imx::IMX_KNS::simt_test
