// The hand-written products: out = A B^T over the tile mainloop of tile.cuh, for the score
// matrix of the unfused path and the two gradient products dG = dS L and dL = dS^T G, with an
// optional split of the depth (split-K) whose partials are summed by a second kernel in a
// fixed order (deterministic, no float atomics).
#include <stdexcept>
#include <string>

#include "losses/mi_cuda/launchers.h"
#include "losses/mi_cuda/tc_tile.cuh"

namespace imx::mi::IMX_KNS {
namespace {

constexpr int kSumThreads = 256;

// Writes (or adds) a block's (16 M)-square tile to out; acc: a TileAccOf<M> or SharedTileOf<M>.
template <int M, class Acc>
IMX_DEVICE void store_tile(const Acc& acc, int64_t i0, int64_t j0, int64_t rows, int64_t cols, float* o,
                           int64_t ld_out, bool accumulate) {
  for (int x = 0; x < M; ++x) {
    const int64_t i = i0 + micro_row(x);
    if (i >= rows) continue;
    for (int y = 0; y < M; ++y) {
      const int64_t j = j0 + micro_col(y);
      if (j >= cols) continue;
      float& dst = o[i * ld_out + j];
      dst = accumulate ? dst + acc.at(x, y) : acc.at(x, y);
    }
  }
}

// Block (x, y, z): output tile (x, y) over depth [z * split_depth, (z + 1) * split_depth),
// written to out + z * split_stride.
// Two blocks per SM, like the sweeps (ptxas needs ~62 registers here, well under the cap).
template <bool kADepthContiguous, bool kBDepthContiguous>
IMX_KERNEL void __launch_bounds__(kTileThreads, 2)
    product_kernel(Operand<kADepthContiguous> a, Operand<kBDepthContiguous> b, float* out, int64_t ld_out,
                   bool accumulate, int64_t split_depth, int64_t split_stride) {
  IMX_SHARED(SharedTiles, sm);
  const int64_t i0 = static_cast<int64_t>(blockIdx.x) * kTileM, j0 = static_cast<int64_t>(blockIdx.y) * kTileN;
  const int64_t k_begin = static_cast<int64_t>(blockIdx.z) * split_depth;
  const int64_t k_end = k_begin + split_depth < a.depth ? k_begin + split_depth : a.depth;
  TileAcc acc;
  multiply_tile(a, b, i0, j0, k_begin, k_end, sm, acc);
  store_tile<kMicro>(acc, i0, j0, a.rows, b.rows, out + static_cast<int64_t>(blockIdx.z) * split_stride, ld_out, accumulate);
}

// The same on tensor cores (tc_tile.cuh), tf32 or bf16, tiles of shape S (64 or 128 square),
// stored from the shared-memory tile; two blocks per SM.
template <class S, bool kADepthContiguous, bool kBDepthContiguous>
IMX_KERNEL void __launch_bounds__(kTileThreads, 2)
    tc_product_kernel(Operand<kADepthContiguous> a, Operand<kBDepthContiguous> b, float* out, int64_t ld_out,
                      bool accumulate, int64_t split_depth, int64_t split_stride, bool bf16) {
  const int64_t i0 = static_cast<int64_t>(blockIdx.x) * S::kSide, j0 = static_cast<int64_t>(blockIdx.y) * S::kSide;
  const int64_t k_begin = static_cast<int64_t>(blockIdx.z) * split_depth;
  const int64_t k_end = k_begin + split_depth < a.depth ? k_begin + split_depth : a.depth;
  const SharedTileOf<S::kMicro> tile = tc_multiply_tile<S>(a, b, i0, j0, k_begin, k_end, bf16);
  store_tile<S::kMicro>(tile, i0, j0, a.rows, b.rows, out + static_cast<int64_t>(blockIdx.z) * split_stride, ld_out,
                        accumulate);
}

template <class S, bool kA, bool kB>
void launch_tc_product(const Operand<kA>& a, const Operand<kB>& b, dim3 grid, float* out, int64_t ld_out,
                       bool accumulate, int64_t split_depth, int64_t split_stride, bool bf16, cudaStream_t stream) {
  constexpr std::size_t shared = tc_shared_bytes<S>();
  allow_dynamic_shared(tc_product_kernel<S, kA, kB>, shared);
  IMX_LAUNCH((tc_product_kernel<S, kA, kB>), grid, kTileThreads, shared, stream)(a, b, out, ld_out, accumulate,
                                                                                 split_depth, split_stride, bf16);
}

// Launches the product kernel of the precision and tile over `grid`.
template <bool kA, bool kB>
void launch_product(const Operand<kA>& a, const Operand<kB>& b, dim3 grid, float* out, int64_t ld_out,
                    bool accumulate, int64_t split_depth, int64_t split_stride, Precision precision, int tile,
                    cudaStream_t stream) {
  if (precision == Precision::fp32) {
    IMX_LAUNCH((product_kernel<kA, kB>), grid, kTileThreads, 0, stream)(a, b, out, ld_out, accumulate, split_depth,
                                                                          split_stride);
    return;
  }
  const bool bf16 = precision == Precision::bf16;
  if (tile == TcTile128::kSide)
    launch_tc_product<TcTile128>(a, b, grid, out, ld_out, accumulate, split_depth, split_stride, bf16, stream);
  else
    launch_tc_product<TcTile64>(a, b, grid, out, ld_out, accumulate, split_depth, split_stride, bf16, stream);
}

// out[i][j] (+)= sum over z of partials[z][i][j] (rows x cols, partials dense).
IMX_KERNEL void sum_splits_kernel(const float* partials, int splits, int64_t rows, int64_t cols, float* out,
                                  int64_t ld_out, bool accumulate) {
  const int64_t n = rows * cols;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float sum = 0.0f;
    for (int z = 0; z < splits; ++z) sum += partials[z * n + e];
    float& dst = out[(e / cols) * ld_out + e % cols];
    dst = accumulate ? dst + sum : sum;
  }
}

}  // namespace

template <bool kADepthContiguous, bool kBDepthContiguous>
void product(const Operand<kADepthContiguous>& a, const Operand<kBDepthContiguous>& b, float* out,
             int64_t ld_out, bool accumulate, int splits, int64_t split_depth, float* partials,
             Precision precision, int tile, cudaStream_t stream) {
  if (tile != kTileM && !(tile == TcTile128::kSide && precision != Precision::fp32))
    throw std::logic_error("mi_cuda product: tiles are 64, or 128 on tensor cores; got " + std::to_string(tile));
  const unsigned tiles_i = static_cast<unsigned>(ceil_div(a.rows, tile));
  const unsigned tiles_j = static_cast<unsigned>(ceil_div(b.rows, tile));
  if (ceil_div(b.rows, tile) > 65535 || splits > 65535)  // gridDim.y and .z limits
    throw std::invalid_argument("mi_cuda product: " + std::to_string(b.rows) + " output columns exceed the grid's " +
                                std::to_string(65535 * int64_t(tile)) + " (or too many splits)");
  if (splits <= 1) {
    launch_product(a, b, dim3(tiles_i, tiles_j, 1), out, ld_out, accumulate, a.depth, int64_t(0), precision, tile,
                   stream);
    check_launch("product");
    return;
  }
  const int64_t n = a.rows * b.rows;
  launch_product(a, b, dim3(tiles_i, tiles_j, static_cast<unsigned>(splits)), partials, b.rows, false, split_depth, n,
                 precision, tile, stream);
  check_launch("product (split partials)");
  const unsigned blocks = static_cast<unsigned>(ceil_div(n, kSumThreads) < kTargetBlocks ? ceil_div(n, kSumThreads) : kTargetBlocks);
  IMX_LAUNCH(sum_splits_kernel, blocks, kSumThreads, 0, stream)(partials, splits, a.rows, b.rows, out, ld_out, accumulate);
  check_launch("product (sum of splits)");
}

// The three layouts the MI loss needs: S = G L^T (both row-major), dG = dS L (dS row-major,
// L transposed view), dL = dS^T G (both transposed views).
template void product<true, true>(const Operand<true>&, const Operand<true>&, float*, int64_t, bool, int, int64_t,
                                  float*, Precision, int, cudaStream_t);
template void product<true, false>(const Operand<true>&, const Operand<false>&, float*, int64_t, bool, int, int64_t,
                                   float*, Precision, int, cudaStream_t);
template void product<false, false>(const Operand<false>&, const Operand<false>&, float*, int64_t, bool, int,
                                    int64_t, float*, Precision, int, cudaStream_t);

void check_launch(const char* what) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("mi_cuda: launching ") + what + " failed: " + cudaGetErrorString(status));
}

}  // namespace imx::mi::IMX_KNS
