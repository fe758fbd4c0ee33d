// Shared-memory and warp-level reductions, shuffles and votes.
#include "tests/simt/kernels/simt_test_kernels.cuh"

namespace imx::IMX_KNS::simt_test {

namespace {

constexpr int kStaticReduceCapacity = 256;

// Halving tree over `count` values in `s` that works for any count (not just powers of two).
IMX_DEVICE void tree_reduce(float* s, unsigned count) {
  const unsigned t = threadIdx.x;
  for (unsigned active = count; active > 1;) {
    const unsigned half = (active + 1) / 2;
    if (t < active - half) s[t] += s[t + half];
    __syncthreads();
    active = half;
  }
}

IMX_KERNEL void block_sums_static_kernel(const float* x, int n, float* out) {
  IMX_SHARED(float[kStaticReduceCapacity], s);
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  s[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  tree_reduce(s, blockDim.x);
  if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}

IMX_KERNEL void block_sums_dynamic_kernel(const float* x, int n, float* out) {
  IMX_DYNAMIC_SHARED(float, s);
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  s[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  tree_reduce(s, blockDim.x);
  if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}

IMX_KERNEL void warp_shuffles_kernel(const float* x, int n, float* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned lane = threadIdx.x % warpSize;
  const unsigned full = 0xffffffffu;
  const float v = i < n ? x[i] : -1.0f;
  float r[kShuffleFields];
  r[0] = __shfl_sync(full, v, static_cast<int>((lane * 7 + 3) % 32));
  r[1] = __shfl_up_sync(full, v, 3);
  r[2] = __shfl_down_sync(full, v, 5);
  r[3] = __shfl_xor_sync(full, v, 6);
  r[4] = __shfl_down_sync(full, v, 2, 8);
  r[5] = __shfl_up_sync(full, v, 1, 4);
  r[6] = __shfl_xor_sync(full, v, 9, 16);
  r[7] = __shfl_sync(full, v, static_cast<int>(lane + 1), 16);
  r[8] = static_cast<float>(__shfl_sync(full, static_cast<double>(v) * 0.5, static_cast<int>(31 - lane)));
  if (i < n) {
    for (int f = 0; f < kShuffleFields; ++f) out[static_cast<size_t>(i) * kShuffleFields + f] = r[f];
  }
}

IMX_KERNEL void warp_sums_kernel(const int* x, int n, int* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned warp = threadIdx.x / warpSize;
  const unsigned lane = threadIdx.x % warpSize;
  // The last warp of a block may be partial: only its existing lanes take part.
  const unsigned lanes = blockDim.x - warp * warpSize < 32u ? blockDim.x - warp * warpSize : 32u;
  const unsigned mask = lanes == 32u ? 0xffffffffu : (1u << lanes) - 1u;
  int v = i < n ? x[i] : 0;
  for (int offset = 16; offset > 0; offset /= 2) {
    const int other = __shfl_xor_sync(mask, v, offset);
    // Partners outside a partial warp do not exist; a lane then keeps its own partial sum.
    if ((lane ^ static_cast<unsigned>(offset)) < lanes) v += other;
  }
  const unsigned warps_per_block = (blockDim.x + warpSize - 1) / warpSize;
  if (lane == 0) out[blockIdx.x * warps_per_block + warp] = v;
}

IMX_KERNEL void votes_kernel(const int* x, int n, int* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int v = i < n ? x[i] : 0;
  const int p = v % 3 == 0;
  const int nonnegative = v >= 0;
  const unsigned full = 0xffffffffu;
  int r[kVoteFields];
  r[0] = static_cast<int>(__ballot_sync(full, p));
  r[1] = __any_sync(full, p);
  r[2] = __all_sync(full, nonnegative);
  r[3] = __syncthreads_count(p);
  r[4] = __syncthreads_and(nonnegative);
  r[5] = __syncthreads_or(v == 7);
  r[6] = __reduce_add_sync(full, v);
  r[7] = __reduce_max_sync(full, v);
  if (i < n) {
    for (int f = 0; f < kVoteFields; ++f) out[static_cast<size_t>(i) * kVoteFields + f] = r[f];
  }
}

int blocks_for(int n, int block) { return (n + block - 1) / block; }

}  // namespace

void block_sums(const float* x, int n, int block, bool static_shared, float* out, cudaStream_t stream) {
  if (static_shared) {
    IMX_LAUNCH(block_sums_static_kernel, blocks_for(n, block), block, 0, stream)(x, n, out);
  } else {
    IMX_LAUNCH(block_sums_dynamic_kernel, blocks_for(n, block), block, block * sizeof(float), stream)(x, n, out);
  }
}

void warp_shuffles(const float* x, int n, int block, float* out, cudaStream_t stream) {
  IMX_LAUNCH(warp_shuffles_kernel, blocks_for(n, block), block, 0, stream)(x, n, out);
}

void warp_sums(const int* x, int n, int block, int* out, cudaStream_t stream) {
  IMX_LAUNCH(warp_sums_kernel, blocks_for(n, block), block, 0, stream)(x, n, out);
}

void votes(const int* x, int n, int block, int* out, cudaStream_t stream) {
  IMX_LAUNCH(votes_kernel, blocks_for(n, block), block, 0, stream)(x, n, out);
}

}  // namespace imx::IMX_KNS::simt_test
