// Kernels that exercise the SIMT emulation itself (tests/simt). Each launcher is compiled
// twice from the same source: imx::emu (CPU emulation) and imx::cuda (nvcc). All pointers are
// device pointers (host memory under emulation).
#pragma once

#include "kernels/simt/simt.h"

namespace imx::IMX_KNS::simt_test {

// Values written per thread by write_thread_indices, at out[global_thread * kIndexFields + f].
enum IndexField : int {
  kThreadX, kThreadY, kThreadZ, kBlockX, kBlockY, kBlockZ,
  kBlockDimX, kBlockDimY, kBlockDimZ, kGridDimX, kGridDimY, kGridDimZ, kWarpSize, kIndexFields
};
// Every thread of a (possibly 3D) grid writes its coordinates at its global linear index.
void write_thread_indices(dim3 grid, dim3 block, unsigned* out, cudaStream_t stream = 0);

// out[b] = sum of x[b*blockDim .. b*blockDim+blockDim) (zero-padded), tree reduction in
// shared memory. `static_shared` picks a 256-float static array (block <= 256), otherwise the
// array is dynamic shared memory of exactly block floats.
void block_sums(const float* x, int n, int block, bool static_shared, float* out, cudaStream_t stream = 0);

// Per thread i (block of `block` threads, a multiple of 32), 9 shuffled values:
//   [0] __shfl_sync(v, (lane*7+3) % 32)      [1] __shfl_up_sync(v, 3)     [2] __shfl_down_sync(v, 5)
//   [3] __shfl_xor_sync(v, 6)                [4] __shfl_down_sync(v, 2, width 8)
//   [5] __shfl_up_sync(v, 1, width 4)        [6] __shfl_xor_sync(v, 9, width 16)
//   [7] __shfl_sync(v, lane+1, width 16)     [8] __shfl_sync(double(v)*0.5, 31-lane) as float
constexpr int kShuffleFields = 9;
void warp_shuffles(const float* x, int n, int block, float* out, cudaStream_t stream = 0);

// Sum of each warp's values with an xor butterfly; warps of the last, partial warp of a
// block use a partial mask. out[global_warp] for blocks of `block` threads (any size).
void warp_sums(const int* x, int n, int block, int* out, cudaStream_t stream = 0);

// Per thread, with v = x[i] (0 past the end) and p = (v % 3 == 0):
//   [0] __ballot_sync(p)   [1] __any_sync(p)   [2] __all_sync(v >= 0)
//   [3] __syncthreads_count(p)   [4] __syncthreads_and(v >= 0)   [5] __syncthreads_or(v == 7)
//   [6] __reduce_add_sync(v)     [7] __reduce_max_sync(v)              (block a multiple of 32)
constexpr int kVoteFields = 8;
void votes(const int* x, int n, int block, int* out, cudaStream_t stream = 0);

// Atomics over x[0..n): hist[x mod bins] += 1 (unsigned); sums[0] += float(x); sums_d[0] += x;
// extrema[0] = max, extrema[1] = min (int); cas_sum[0] += x via an atomicCAS loop (unsigned long long).
void atomics(const int* x, int n, int bins, unsigned* hist, float* sums, double* sums_d, int* extrema,
             unsigned long long* cas_sum, cudaStream_t stream = 0);

// C[m x n] = A[m x k] * B[k x n], row-major, 16x16 shared-memory tiles. The planted variants
// drop one of the two __syncthreads of the tile loop (tests show the harness catches it).
enum class MatmulVariant { Correct, MissingSyncAfterLoad, MissingSyncAfterCompute };
constexpr int kMatmulTile = 16;
void tiled_matmul(const float* a, const float* b, float* c, int m, int n, int k, MatmulVariant variant,
                  cudaStream_t stream = 0);

// out[i] = x[i] * x[first element of i's block]: thread 0 broadcasts through shared memory.
// With `missing_barrier` the barrier after the broadcast is left out: correct when thread 0
// happens to run first (in-order), wrong in other orders.
void broadcast_scale(const float* x, int n, int block, bool missing_barrier, float* out, cudaStream_t stream = 0);

// Barrier and collective misuse, one kernel per kind, each launched as one block of `block`
// threads. `param` is kind-specific: the number of threads reaching the barrier
// (PartialBarrier), the exiting thread (ExitBeforeBarrier) or lane (ShuffleWithExitedLane).
enum class Misuse {
  PartialBarrier,              // threads < param call __syncthreads, the rest return
  ExitBeforeBarrier,           // thread param returns, the others call __syncthreads
  DivergentBarriers,           // odd and even threads at two different __syncthreads
  ShuffleWithExitedLane,       // lane param returns, the others __shfl_sync with the full mask
  ShuffleMaskWithoutSelf,      // every lane passes mask 0x1
  ShuffleMixedMasks,           // lane 0 passes 0x0000ffff, the others 0xffffffff
  ShuffleFullMaskPartialWarp,  // full mask in a block whose last warp is partial
  ShuffleAgainstBlockBarrier,  // lane 1 waits at __syncthreads, the others __shfl_sync
  SyncwarpAtTwoSites,          // lanes < 16 and >= 16 at two different __syncwarp
  HelperBarrierShiftedCalls,   // one helper's __syncthreads reached by different calls (block 64)
};
void run_misuse(Misuse kind, int block, int param = 0, cudaStream_t stream = 0);
// The source line (in misuse.cu) of the offending call of each kind.
int misuse_line(Misuse kind);

// Kernels that use static shared memory (IMX_SHARED) as if it were initialised, which the
// emulation catches by poisoning it (0xFF, NaN) at every block start.
// out[b] = sum of block b's values, added one thread at a time into a shared total; with
// `zero_first` false nobody zeroes the total first (right only if shared memory starts at 0).
void shared_block_totals(const float* x, int n, int block, bool zero_first, float* out, cudaStream_t stream = 0);
// out[i] = x[i] * lut[i % kSharedTable], the table staged in shared memory; with
// `every_block_loads` false only block 0 stages it (right only if later blocks inherit it).
constexpr int kSharedTable = 16;
void shared_table_scale(const float* lut, const float* x, int n, int block, bool every_block_loads, float* out,
                        cudaStream_t stream = 0);

// Sanitizer-detected planted bugs (run by planted_bug_driver under TSan / ASan).
// out must hold n floats; the kernel writes out[n] as well (one past the end).
void write_one_past_end(float* out, int n, cudaStream_t stream = 0);
// A 32-float static shared array indexed with threadIdx.x + 1 (block of 32).
void shared_one_past_end(float* out, cudaStream_t stream = 0);
// The same shift into 32 floats of dynamic shared memory.
void dynamic_shared_one_past_end(float* out, cudaStream_t stream = 0);
// Lanes exchange through shared memory with the __syncwarp between write and read left out.
void missing_syncwarp(const float* x, float* out, cudaStream_t stream = 0);

}  // namespace imx::IMX_KNS::simt_test
