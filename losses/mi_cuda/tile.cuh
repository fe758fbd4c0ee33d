// The one tiled product of the MI kernels: a kTileM x kTileN block of out[i][j] = sum_k A(i,k)
// B(j,k), computed by 256 threads from shared-memory tiles of A and B that advance kTileK at a
// time through the depth. It produces the score tiles (A = G, B = L, depth D) of the forward and
// backward sweeps, and the tiles of the gradient products (A, B = views of dS, G, L).
//
// Thread layout: thread t owns the M x M outputs (ty + 16 a, tx + 16 b), a, b < M, with
// tx = t % 16 and ty = t / 16. The 16 threads that share a row of outputs are 16 consecutive
// lanes of one warp, so row statistics reduce with shuffles. M = kMicro = 4 gives the 64 x 64
// tiles of every product; the fp32 sweeps also have M = kSmallMicro = 2 (32 x 32 tiles), which
// the plan picks when 64 x 64 tiles would leave SMs idle (plan.cu: B = 64, P = 64 is 64 tiles),
// and the tensor-core sweeps M = kLargeMicro = 8 (128 x 128 tiles) for large problems.
//
// Exact float32 on CUDA cores; tc_tile.cuh is the tensor-core (tf32, bf16) version.
#pragma once
#include <cstddef>
#include <cstdint>

#include "losses/mi_cuda/reduce.cuh"

namespace imx::mi::IMX_KNS {

constexpr int kTileM = 64;     // rows of an output tile
constexpr int kTileN = 64;     // columns of an output tile
constexpr int kTileK = 16;     // depth of one shared-memory stage
constexpr int kTileSide = 16;  // threads along each side of the tile
constexpr int kTileThreads = kTileSide * kTileSide;
constexpr int kMicro = kTileM / kTileSide;  // outputs per thread along each side
constexpr int kSmallMicro = 2;              // the small sweep tile: 32 x 32
constexpr int kLargeMicro = 8;              // the large tensor-core sweep tile: 128 x 128 (tc_tile.cuh)
static_assert(kTileM == kTileN && kMicro * kTileSide == kTileN, "square tiles, whole micro-tiles");
// Padding of the shared rows: the depth-major stores of a k-contiguous operand then hit
// different banks.
constexpr int kTilePad = 4;

// A rows x depth operand of a product; element (i, k) is data[i * ld + k] when kDepthContiguous
// (row-major, e.g. G or L for the scores) and data[k * ld + i] otherwise (a transposed view).
template <bool kDepthContiguous>
struct Operand {
  const float* data;
  int64_t ld;
  int64_t rows;
  int64_t depth;
  IMX_DEVICE float at(int64_t i, int64_t k) const {
    return kDepthContiguous ? data[i * ld + k] : data[k * ld + i];
  }
};

template <int M>
struct SharedTilesOf {
  float a[kTileK][kTileSide * M + kTilePad];
  float b[kTileK][kTileSide * M + kTilePad];
};
using SharedTiles = SharedTilesOf<kMicro>;

template <int M>
struct TileAccOf {
  float v[M][M];
  IMX_DEVICE float at(int x, int y) const { return v[x][y]; }
};
using TileAcc = TileAccOf<kMicro>;

IMX_DEVICE int tile_tx() { return static_cast<int>(threadIdx.x) % kTileSide; }
IMX_DEVICE int tile_ty() { return static_cast<int>(threadIdx.x) / kTileSide; }
// Offsets inside the tile of this thread's a-th row and b-th column.
IMX_DEVICE int micro_row(int a) { return tile_ty() + kTileSide * a; }
IMX_DEVICE int micro_col(int b) { return tile_tx() + kTileSide * b; }

// A (16 M)-square output tile left row-major in shared memory (the tensor-core sweeps,
// tc_tile.cuh): the epilogues read this thread's outputs there with the same at(x, y) as from a
// TileAccOf, instead of 16 M x M of them held in registers.
template <int M>
struct SharedTileOf {
  const float* tile;  // element (i, j) of the tile at tile[i * ld + j]
  int ld;
  IMX_DEVICE float at(int x, int y) const { return tile[micro_row(x) * ld + micro_col(y)]; }
};

// Stage [i0, i0 + kRows) x [k0, k0 + kTileK) of `op` into dst[k][i], zeros outside the operand
// or past k_end. Consecutive threads read consecutive addresses of whichever index is
// contiguous in memory.
template <int kRows, bool kDepthContiguous>
IMX_DEVICE void stage_tile(const Operand<kDepthContiguous>& op, int64_t i0, int64_t k0, int64_t k_end,
                           float (&dst)[kTileK][kRows + kTilePad]) {
  for (int e = static_cast<int>(threadIdx.x); e < kRows * kTileK; e += kTileThreads) {
    const int i = kDepthContiguous ? e / kTileK : e % kRows;
    const int k = kDepthContiguous ? e % kTileK : e / kRows;
    const int64_t gi = i0 + i, gk = k0 + k;
    dst[k][i] = (gi < op.rows && gk < k_end) ? op.at(gi, gk) : 0.0f;
  }
}

// acc = the (16 M)-square tile at (i0, j0) of A B^T over depth [k_begin, k_end). Every thread
// of the block must call it with the same arguments (it contains barriers).
template <int M, bool kADepthContiguous, bool kBDepthContiguous>
IMX_DEVICE void multiply_tile(const Operand<kADepthContiguous>& a, const Operand<kBDepthContiguous>& b,
                              int64_t i0, int64_t j0, int64_t k_begin, int64_t k_end, SharedTilesOf<M>& sm,
                              TileAccOf<M>& acc) {
  for (int x = 0; x < M; ++x)
    for (int y = 0; y < M; ++y) acc.v[x][y] = 0.0f;
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kTileK) {
    stage_tile<kTileSide * M>(a, i0, k0, k_end, sm.a);
    stage_tile<kTileSide * M>(b, j0, k0, k_end, sm.b);
#ifndef IMX_MI_PLANT_MISSING_SYNC  // test-only switch: tests/mi_cuda shows that losing it is caught
    __syncthreads();  // the whole stage is written before any thread reads it
#endif
    for (int kk = 0; kk < kTileK; ++kk) {
      float av[M], bv[M];
      for (int x = 0; x < M; ++x) av[x] = sm.a[kk][micro_row(x)];
      for (int y = 0; y < M; ++y) bv[y] = sm.b[kk][micro_col(y)];
      for (int x = 0; x < M; ++x)
        for (int y = 0; y < M; ++y) acc.v[x][y] = fmaf(av[x], bv[y], acc.v[x][y]);
    }
    __syncthreads();  // every thread is done reading before the next stage overwrites it
  }
}

// Where a sweep gets its score tiles from. Each source names its tile (kMicroTile: M, tiles of
// 16 M x 16 M, accumulated in Acc), the static shared memory it needs (Shared), its dynamic
// shared memory and the blocks per SM its registers are capped for.
struct NoShared {
  char unused;
};

// Fused: recomputed from the features, S[r][c] = <G[r], L[c]>, exact float32.
template <int M>
struct ComputedScores {
  Operand<true> global;  // R x D
  Operand<true> local;   // C x D
  static constexpr int kMicroTile = M;
  using Acc = TileAccOf<M>;
  using Shared = SharedTilesOf<M>;
  static constexpr std::size_t kDynamicShared = 0;
  // Caps registers at 128 per thread (65536 / (2 * 256)): two blocks per SM, so one block's
  // epilogue overlaps the other's mainloop. Uncapped, ptxas gave these sweeps up to 158.
  static constexpr int kMinBlocks = 2;
  IMX_DEVICE void tile(int64_t r0, int64_t c0, Shared& sm, Acc& acc) const {
    multiply_tile(global, local, r0, c0, 0, global.depth, sm, acc);
  }
};

// Unfused baseline: read from the materialized R x C matrix.
template <int M>
struct StoredScores {
  const float* scores;
  int64_t ld, rows, cols;
  static constexpr int kMicroTile = M;
  using Acc = TileAccOf<M>;
  using Shared = NoShared;
  static constexpr std::size_t kDynamicShared = 0;
  static constexpr int kMinBlocks = 2;  // as ComputedScores: at most 128 registers
  IMX_DEVICE void tile(int64_t r0, int64_t c0, Shared&, Acc& acc) const {
    for (int x = 0; x < M; ++x) {
      const int64_t r = r0 + micro_row(x);
      for (int y = 0; y < M; ++y) {
        const int64_t c = c0 + micro_col(y);
        acc.v[x][y] = (r < rows && c < cols) ? scores[r * ld + c] : 0.0f;
      }
    }
  }
};

}  // namespace imx::mi::IMX_KNS
