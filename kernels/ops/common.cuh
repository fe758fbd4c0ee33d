// Shared pieces of every kernel in kernels/ops: launch geometry, grid-stride loops, and the
// warp- and block-level reductions. Kernels are written once against these and compiled both
// by nvcc (imx::cuda) and by the SIMT emulation (imx::emu), see kernels/simt/simt.h.
//
// Rules the emulation imposes and these helpers keep: every warp exchange is an explicit
// __shfl_*_sync over a full warp (block sizes are multiples of 32), every loop that contains a
// collective has a warp- or block-uniform trip count, and no thread returns before a barrier.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/kernel_types.h"
#include "kernels/simt/simt.h"

namespace imx::IMX_KNS {

constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;
// Threads per block of the elementwise and warp-per-item kernels: 8 warps.
constexpr int kBlock = 256;
// Grid cap for grid-stride kernels: about 8 resident blocks on each of an H200's 132 SMs,
// times 4. Not queried from the device; and every item is handled whole by one thread, warp
// or block, so the cap never changes a result, only which unit computes it. (The emulated
// tests lower it through grid_cap() to run the later grid-stride rounds at small sizes.)
constexpr int64_t kMaxBlocks = 4096;
inline int64_t& grid_cap() {
  static int64_t cap = kMaxBlocks;
  return cap;
}

IMX_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
IMX_HD int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
IMX_HD int64_t max64(int64_t a, int64_t b) { return a < b ? b : a; }

// Blocks for `work` items of `per_block` each, capped; at least 1 (callers skip empty work).
inline unsigned blocks_for(int64_t work, int64_t per_block) {
  return static_cast<unsigned>(max64(1, min64(ceil_div(work, per_block), grid_cap())));
}

// ---------------------------------------------------------------------------------------------
// Work distribution. A "unit" is what handles one item: a thread, a warp or a whole block.
// Each unit type names its index, the number of units in the grid, its own rank and size,
// and all-reductions over its members. Kernels templated on the unit share one body for
// "one thread per row" and "one warp per row" (and "one block per row") variants.

// Sum over a full warp, every lane gets the result (butterfly with __shfl_xor_sync).
IMX_DEVICE float warp_sum(float v) {
  for (int delta = kWarp / 2; delta > 0; delta /= 2) v += __shfl_xor_sync(kFullMask, v, delta);
  return v;
}
IMX_DEVICE float warp_max(float v) {
  for (int delta = kWarp / 2; delta > 0; delta /= 2) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, delta));
  return v;
}

// Two sums carried together (e.g. sum(g) and sum(g * xhat)): one pass over the data.
struct Pair {
  float a = 0.0f, b = 0.0f;
  IMX_HD Pair& operator+=(const Pair& o) {
    a += o.a;
    b += o.b;
    return *this;
  }
};
IMX_DEVICE Pair warp_sum(Pair v) { return Pair{warp_sum(v.a), warp_sum(v.b)}; }

// Block-reduction operators: the identity and the warp all-reduce.
struct BlockOpSum {
  IMX_DEVICE float identity() const { return 0.0f; }
  IMX_DEVICE float warp(float v) const { return warp_sum(v); }
};
struct BlockOpMax {
  IMX_DEVICE float identity() const { return -INFINITY; }
  IMX_DEVICE float warp(float v) const { return warp_max(v); }
};

// All-reduce over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// result. Each warp reduces with shuffles, the warp partials meet in shared memory, and every
// warp then combines the partials itself (cheaper than a broadcast through shared memory and
// one barrier fewer). Must be reached by every thread of the block.
template <class Op>
IMX_DEVICE float block_reduce(float v, Op op) {
  IMX_SHARED(float[kWarp], partial);
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int warp = static_cast<int>(threadIdx.x) / kWarp;
  const int warps = static_cast<int>(blockDim.x) / kWarp;
  v = op.warp(v);
  if (lane == 0) partial[warp] = v;
#ifndef IMX_PLANT_MISSING_SYNC  // test-only switch: tests/kernels shows that losing it is caught
  __syncthreads();  // every warp's partial is written before any warp reads them
#endif
  const float result = op.warp(lane < warps ? partial[lane] : op.identity());
  __syncthreads();  // every warp has read the partials before a following call rewrites them
  return result;
}

struct ThreadUnit {
  IMX_DEVICE static int64_t index() { return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
  IMX_DEVICE static int64_t count() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }
  IMX_DEVICE static int rank() { return 0; }
  IMX_DEVICE static int size() { return 1; }
  IMX_DEVICE static bool leader() { return true; }
  IMX_DEVICE static float sum(float v) { return v; }
  IMX_DEVICE static Pair sum(Pair v) { return v; }
  IMX_DEVICE static float max(float v) { return v; }
  static constexpr int64_t kThreads = 1;
};

struct WarpUnit {
  IMX_DEVICE static int64_t index() { return ThreadUnit::index() / kWarp; }
  IMX_DEVICE static int64_t count() { return ThreadUnit::count() / kWarp; }
  IMX_DEVICE static int rank() { return static_cast<int>(threadIdx.x) % kWarp; }
  IMX_DEVICE static int size() { return kWarp; }
  IMX_DEVICE static bool leader() { return rank() == 0; }
  IMX_DEVICE static float sum(float v) { return warp_sum(v); }
  IMX_DEVICE static Pair sum(Pair v) { return warp_sum(v); }
  IMX_DEVICE static float max(float v) { return warp_max(v); }
  static constexpr int64_t kThreads = kWarp;
};

struct BlockUnit {
  IMX_DEVICE static int64_t index() { return blockIdx.x; }
  IMX_DEVICE static int64_t count() { return gridDim.x; }
  IMX_DEVICE static int rank() { return static_cast<int>(threadIdx.x); }
  IMX_DEVICE static int size() { return static_cast<int>(blockDim.x); }
  IMX_DEVICE static bool leader() { return threadIdx.x == 0; }
  IMX_DEVICE static float sum(float v) { return block_reduce(v, BlockOpSum{}); }
  IMX_DEVICE static float max(float v) { return block_reduce(v, BlockOpMax{}); }
  static constexpr int64_t kThreads = kBlock;
};

// Calls f(item) for the items [0, n) this unit owns (grid-stride over units). The trip count
// is uniform within a unit, so f may use the unit's collectives.
template <class Unit, class F>
IMX_DEVICE void for_each_item(int64_t n, F&& f) {
  for (int64_t item = Unit::index(); item < n; item += Unit::count()) f(item);
}

// Blocks for `items` handled by units of type Unit (kBlock threads per block).
template <class Unit>
unsigned blocks_for_units(int64_t items) {
  return blocks_for(items * Unit::kThreads, kBlock);
}

// Launches kernel<UnitA> when `use_a`, kernel<UnitB> otherwise, with enough blocks for
// `items` items handled by the chosen unit. (A macro: IMX_LAUNCH is one under nvcc.)
#define IMX_LAUNCH_BY_UNIT(kernel, use_a, UnitA, UnitB, items, stream, ...)                     \
  do {                                                                                           \
    if ((items) <= 0) break;                                                                     \
    if (use_a)                                                                                   \
      IMX_LAUNCH((kernel<UnitA>), blocks_for_units<UnitA>(items), kBlock, 0, stream)(__VA_ARGS__); \
    else                                                                                         \
      IMX_LAUNCH((kernel<UnitB>), blocks_for_units<UnitB>(items), kBlock, 0, stream)(__VA_ARGS__); \
  } while (0)

}  // namespace imx::IMX_KNS
