// Segmented sums: `outputs` independent sums of `length` values each, with the values produced
// by a functor, so sum_to and layer-norm's parameter gradients share one implementation.
//
//   Source: IMX_DEVICE auto segment(int64_t o) const   segment o, a callable: r -> Acc value
//   Sink:   IMX_DEVICE void operator()(int64_t o, Acc sum) const   receives segment o's sum
// (segment(o) does the per-segment index work once, outside the loop over r).
//
// Two shapes of work, chosen by where consecutive values lie in memory:
//  * rows    (consecutive r adjacent, or too few outputs to give each a thread): one warp per
//            (segment, chunk) item; lanes stride over r, then a warp shuffle tree.
//  * columns (consecutive outputs adjacent and enough of them): one thread per (segment,
//            chunk) item, so a warp reads 32 neighbouring outputs' values at each r.
// A segment that is long compared with the parallelism (few outputs, e.g. a bias gradient
// [64,128,8,8] -> [1,128,1,1], or everything -> a scalar) is split into chunks: a first pass
// writes per-chunk partial sums to a workspace, a second pass sums the chunks. The split
// depends only on (outputs, length), never on timing, and there are no atomics, so results
// are deterministic for a given shape.
//
// Workspace: the caller's (workspace_bytes() of them; the CUDA backend takes it from its
// caching allocator, like the MI kernels' workspaces), so launches on different streams or
// inside CUDA graphs never share partials, as a `static __device__` array would.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/ops/common.cuh"

namespace imx::IMX_KNS::segment {

// At most this much workspace: 2048 segments x 16 chunks of Pair (the split only happens
// for few segments).
constexpr int64_t kScratchWords = 65536;  // 32-bit words, 256 KiB
// Below this many warps (rows) or threads (columns) the device is under-filled: split.
constexpr int64_t kTargetWarps = 2048;
constexpr int64_t kTargetThreads = 65536;
// A chunk is worth a warp only above this many values per lane (rows) / per thread (columns).
constexpr int64_t kMinPerLane = 8;
constexpr int64_t kMinPerThread = 16;
// Columns need this many outputs to fill warps with neighbours.
constexpr int64_t kMinColumnOutputs = 1024;
// Second-pass lengths stay short (the columns second pass is a sequential loop).
constexpr int64_t kMaxRowSplits = 1024;
constexpr int64_t kMaxColumnSplits = 64;

// Chunk s of a segment of `length` values split `splits` ways: [begin, end).
struct Chunk {
  int64_t begin, end;
};
IMX_HD Chunk chunk_of(int64_t length, int64_t splits, int64_t s) {
  const int64_t size = ceil_div(length, splits);
  return Chunk{min64(length, s * size), min64(length, (s + 1) * size)};
}

// Reads the first pass's partial sums: segment o's chunk r.
// Values base[r * stride], the shape of a segment in both kinds of partials.
template <class Acc>
struct StridedValues {
  const Acc* base;
  int64_t stride;
  IMX_DEVICE Acc operator()(int64_t r) const { return base[r * stride]; }
};
template <class Acc>
struct RowPartials {  // item = o * splits + s
  const Acc* partials;
  int64_t splits;
  IMX_DEVICE StridedValues<Acc> segment(int64_t o) const { return {partials + o * splits, 1}; }
};
template <class Acc>
struct ColumnPartials {  // item = s * outputs + o
  const Acc* partials;
  int64_t outputs;
  IMX_DEVICE StridedValues<Acc> segment(int64_t o) const { return {partials + o, outputs}; }
};

// One warp per item (o, s); with splits == 1 the sum goes to the sink, else to partials[item].
template <class Acc, class Source, class Sink>
IMX_KERNEL void rows_kernel(Source source, Sink sink, int64_t outputs, int64_t length, int64_t splits,
                            Acc* partials) {
  for_each_item<WarpUnit>(outputs * splits, [&](int64_t item) {
    const int64_t o = item / splits;
    const Chunk c = chunk_of(length, splits, item % splits);
    const auto values = source.segment(o);
    Acc acc{};
    for (int64_t r = c.begin + WarpUnit::rank(); r < c.end; r += kWarp) acc += values(r);
    acc = WarpUnit::sum(acc);
    if (WarpUnit::leader()) {
      if (splits == 1) sink(o, acc);
      else partials[item] = acc;
    }
  });
}

// One thread per item (s, o), o fastest so that neighbouring threads read neighbouring values.
template <class Acc, class Source, class Sink>
IMX_KERNEL void columns_kernel(Source source, Sink sink, int64_t outputs, int64_t length, int64_t splits,
                               Acc* partials) {
  for_each_item<ThreadUnit>(outputs * splits, [&](int64_t item) {
    const int64_t o = item % outputs;
    const Chunk c = chunk_of(length, splits, item / outputs);
    const auto values = source.segment(o);
    Acc acc{};
    for (int64_t r = c.begin; r < c.end; ++r) acc += values(r);
    if (splits == 1) sink(o, acc);
    else partials[item] = acc;
  });
}

// How many chunks: enough items to fill the device, each chunk still worth its unit, and the
// partials within kScratchWords.
inline int64_t choose_splits(int64_t outputs, int64_t length, int64_t target_units,
                             int64_t min_chunk, int64_t max_splits, int64_t acc_words) {
  if (outputs >= target_units) return 1;
  int64_t splits = min64(ceil_div(target_units, outputs), length / min_chunk);
  splits = min64(splits, max_splits);
  splits = min64(splits, kScratchWords / (acc_words * outputs));
  return max64(splits, 1);
}

// The work split of reduce(): columns or rows, and how many chunks per segment.
struct Split {
  bool columns;
  int64_t splits;
};
template <class Acc>
Split choose_split(int64_t outputs, int64_t length, bool outputs_adjacent) {
  constexpr int64_t acc_words = sizeof(Acc) / sizeof(float);
  if (outputs_adjacent && outputs >= kMinColumnOutputs)
    return {true, choose_splits(outputs, length, kTargetThreads, kMinPerThread, kMaxColumnSplits, acc_words)};
  return {false, choose_splits(outputs, length, kTargetWarps, kMinPerLane * kWarp, kMaxRowSplits, acc_words)};
}

// Workspace bytes reduce() needs for this problem: the first pass's partials (0 unsplit).
template <class Acc>
std::size_t workspace_bytes(int64_t outputs, int64_t length, bool outputs_adjacent) {
  if (outputs <= 0) return 0;
  const Split split = choose_split<Acc>(outputs, length, outputs_adjacent);
  return split.splits > 1 ? static_cast<std::size_t>(outputs * split.splits) * sizeof(Acc) : 0;
}

// Throws std::invalid_argument naming `who` unless `workspace` can hold the partials.
template <class Acc>
void check_workspace(int64_t outputs, int64_t length, bool outputs_adjacent, const void* workspace,
                     std::size_t workspace_size, const char* who) {
  const std::size_t needed = workspace_bytes<Acc>(outputs, length, outputs_adjacent);
  if (needed > 0 && (workspace == nullptr || workspace_size < needed ||
                     reinterpret_cast<std::uintptr_t>(workspace) % alignof(Acc) != 0))
    throw std::invalid_argument(std::string("kernels/ops ") + who + ": the workspace needs " +
                                std::to_string(needed) + " bytes aligned to " + std::to_string(alignof(Acc)) +
                                ", got " + std::to_string(workspace_size) + " at " +
                                (workspace == nullptr ? "null" : "a misaligned address"));
}

// Sums every segment; `outputs_adjacent` says that value r of segments o and o + 1 are
// neighbours in memory (columns pay off), otherwise rows are used. `workspace` holds at
// least workspace_bytes<Acc>(...) bytes, aligned for Acc (may be null when that is 0).
template <class Acc, class Source, class Sink>
void reduce(Source source, Sink sink, int64_t outputs, int64_t length, bool outputs_adjacent, void* workspace,
            std::size_t workspace_size, const char* who, cudaStream_t stream) {
  if (outputs <= 0) return;
  check_workspace<Acc>(outputs, length, outputs_adjacent, workspace, workspace_size, who);
  Acc* partials = static_cast<Acc*>(workspace);
  const Split split = choose_split<Acc>(outputs, length, outputs_adjacent);
  const int64_t splits = split.splits;
  if (split.columns) {
    const unsigned grid = blocks_for_units<ThreadUnit>(outputs * splits);
    IMX_LAUNCH((columns_kernel<Acc, Source, Sink>), grid, kBlock, 0, stream)(source, sink, outputs, length, splits,
                                                                              partials);
    if (splits > 1) {
      const unsigned grid2 = blocks_for_units<ThreadUnit>(outputs);
      IMX_LAUNCH((columns_kernel<Acc, ColumnPartials<Acc>, Sink>), grid2, kBlock, 0, stream)(
          ColumnPartials<Acc>{partials, outputs}, sink, outputs, splits, int64_t{1}, partials);
    }
    return;
  }
  const unsigned grid = blocks_for_units<WarpUnit>(outputs * splits);
  IMX_LAUNCH((rows_kernel<Acc, Source, Sink>), grid, kBlock, 0, stream)(source, sink, outputs, length, splits,
                                                                         partials);
  if (splits > 1) {
    const unsigned grid2 = blocks_for_units<WarpUnit>(outputs);
    IMX_LAUNCH((rows_kernel<Acc, RowPartials<Acc>, Sink>), grid2, kBlock, 0, stream)(
        RowPartials<Acc>{partials, splits}, sink, outputs, splits, int64_t{1}, partials);
  }
}

}  // namespace imx::IMX_KNS::segment
