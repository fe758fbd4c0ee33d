// The classic shared-memory tiled matrix product, plus two planted bugs: each variant leaves
// out one of the two barriers of the tile loop.
#include "tests/simt/kernels/simt_test_kernels.cuh"

namespace imx::IMX_KNS::simt_test {

namespace {

template <bool kSyncAfterLoad, bool kSyncAfterCompute>
IMX_KERNEL void tiled_matmul_kernel(const float* a, const float* b, float* c, int m, int n, int k) {
  IMX_SHARED(float[kMatmulTile][kMatmulTile], a_tile);
  IMX_SHARED(float[kMatmulTile][kMatmulTile], b_tile);
  const int tx = threadIdx.x;
  const int ty = threadIdx.y;
  const int row = blockIdx.y * kMatmulTile + ty;
  const int col = blockIdx.x * kMatmulTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < k; k0 += kMatmulTile) {
    a_tile[ty][tx] = (row < m && k0 + tx < k) ? a[static_cast<size_t>(row) * k + k0 + tx] : 0.0f;
    b_tile[ty][tx] = (k0 + ty < k && col < n) ? b[static_cast<size_t>(k0 + ty) * n + col] : 0.0f;
    if constexpr (kSyncAfterLoad) __syncthreads();
    for (int kk = 0; kk < kMatmulTile; ++kk) acc += a_tile[ty][kk] * b_tile[kk][tx];
    if constexpr (kSyncAfterCompute) __syncthreads();
  }
  if (row < m && col < n) c[static_cast<size_t>(row) * n + col] = acc;
}

}  // namespace

void tiled_matmul(const float* a, const float* b, float* c, int m, int n, int k, MatmulVariant variant,
                  cudaStream_t stream) {
  const dim3 grid((n + kMatmulTile - 1) / kMatmulTile, (m + kMatmulTile - 1) / kMatmulTile);
  const dim3 block(kMatmulTile, kMatmulTile);
  switch (variant) {
    case MatmulVariant::Correct:
      IMX_LAUNCH((tiled_matmul_kernel<true, true>), grid, block, 0, stream)(a, b, c, m, n, k);
      break;
    case MatmulVariant::MissingSyncAfterLoad:
      IMX_LAUNCH((tiled_matmul_kernel<false, true>), grid, block, 0, stream)(a, b, c, m, n, k);
      break;
    case MatmulVariant::MissingSyncAfterCompute:
      IMX_LAUNCH((tiled_matmul_kernel<true, false>), grid, block, 0, stream)(a, b, c, m, n, k);
      break;
  }
}

}  // namespace imx::IMX_KNS::simt_test
