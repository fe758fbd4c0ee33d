#include "kernels/simt/engine/warp_resolve.h"

#include <algorithm>
#include <limits>

namespace imx::simt::detail {

namespace {

bool in_mask(unsigned mask, int lane) { return lane >= 0 && lane < 32 && ((mask >> lane) & 1u) != 0; }

// The lane whose value lane `lane` reads, or `lane` itself where CUDA returns the caller's
// own value (a shift past the edge of its width-segment).
int shuffle_source(WarpOp op, int lane, const LaneArgs& args) {
  const int width = args.width;
  const int segment = lane & ~(width - 1);
  switch (op) {
    case WarpOp::ShflIdx:
      return segment + (args.param & (width - 1));
    case WarpOp::ShflUp:
      return (lane - segment) - args.param < 0 ? lane : lane - args.param;
    case WarpOp::ShflDown:
      return (lane - segment) + args.param >= width ? lane : lane + args.param;
    case WarpOp::ShflXor: {
      // Earlier segments are readable, later ones give the caller's own value.
      const int source = lane ^ args.param;
      return source >= segment + width ? lane : source;
    }
    default:
      return lane;
  }
}

template <class T, class Combine>
std::uint64_t reduce_lanes(unsigned mask, const std::array<LaneArgs, 32>& lanes, T initial, Combine combine) {
  T accumulator = initial;
  for (int lane = 0; lane < 32; ++lane) {
    if (in_mask(mask, lane)) accumulator = combine(accumulator, static_cast<T>(static_cast<std::uint32_t>(lanes[lane].value)));
  }
  return static_cast<std::uint32_t>(accumulator);
}

}  // namespace

std::array<std::uint64_t, 32> resolve_warp_collective(WarpOp op, unsigned mask,
                                                       const std::array<LaneArgs, 32>& lanes) {
  std::array<std::uint64_t, 32> results{};
  std::uint64_t common = 0;  // for the collectives where every lane gets the same answer
  switch (op) {
    case WarpOp::Sync:
      break;
    case WarpOp::Ballot:
    case WarpOp::Any:
    case WarpOp::All: {
      unsigned ballot = 0;
      for (int lane = 0; lane < 32; ++lane) {
        if (in_mask(mask, lane) && lanes[lane].value != 0) ballot |= 1u << lane;
      }
      common = op == WarpOp::Ballot ? ballot : op == WarpOp::Any ? (ballot != 0) : (ballot == mask);
      break;
    }
    case WarpOp::ReduceAddU:
      common = reduce_lanes<std::uint32_t>(mask, lanes, 0u, [](auto a, auto b) { return a + b; });
      break;
    case WarpOp::ReduceMinU:
      common = reduce_lanes<std::uint32_t>(mask, lanes, std::numeric_limits<std::uint32_t>::max(),
                                           [](auto a, auto b) { return std::min(a, b); });
      break;
    case WarpOp::ReduceMaxU:
      common = reduce_lanes<std::uint32_t>(mask, lanes, 0u, [](auto a, auto b) { return std::max(a, b); });
      break;
    case WarpOp::ReduceAddI:  // two's complement: the unsigned sum has the same bits
      common = reduce_lanes<std::uint32_t>(mask, lanes, 0u, [](auto a, auto b) { return a + b; });
      break;
    case WarpOp::ReduceMinI:
      common = reduce_lanes<std::int32_t>(mask, lanes, std::numeric_limits<std::int32_t>::max(),
                                          [](auto a, auto b) { return std::min(a, b); });
      break;
    case WarpOp::ReduceMaxI:
      common = reduce_lanes<std::int32_t>(mask, lanes, std::numeric_limits<std::int32_t>::min(),
                                          [](auto a, auto b) { return std::max(a, b); });
      break;
    case WarpOp::ReduceAnd:
      common = reduce_lanes<std::uint32_t>(mask, lanes, ~0u, [](auto a, auto b) { return a & b; });
      break;
    case WarpOp::ReduceOr:
      common = reduce_lanes<std::uint32_t>(mask, lanes, 0u, [](auto a, auto b) { return a | b; });
      break;
    case WarpOp::ReduceXor:
      common = reduce_lanes<std::uint32_t>(mask, lanes, 0u, [](auto a, auto b) { return a ^ b; });
      break;
    case WarpOp::ShflIdx:
    case WarpOp::ShflUp:
    case WarpOp::ShflDown:
    case WarpOp::ShflXor:
      for (int lane = 0; lane < 32; ++lane) {
        if (!in_mask(mask, lane)) continue;
        const int source = shuffle_source(op, lane, lanes[lane]);
        results[lane] = in_mask(mask, source) ? lanes[source].value : kInactiveLanePoison;
      }
      return results;
  }
  for (int lane = 0; lane < 32; ++lane) {
    if (in_mask(mask, lane)) results[lane] = common;
  }
  return results;
}

bool is_shuffle(WarpOp op) {
  return op == WarpOp::ShflIdx || op == WarpOp::ShflUp || op == WarpOp::ShflDown || op == WarpOp::ShflXor;
}

bool is_valid_shuffle_width(int width) { return width >= 1 && width <= 32 && (width & (width - 1)) == 0; }

const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::Sync: return "__syncwarp";
    case WarpOp::ShflIdx: return "__shfl_sync";
    case WarpOp::ShflUp: return "__shfl_up_sync";
    case WarpOp::ShflDown: return "__shfl_down_sync";
    case WarpOp::ShflXor: return "__shfl_xor_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
    case WarpOp::ReduceAddU:
    case WarpOp::ReduceAddI: return "__reduce_add_sync";
    case WarpOp::ReduceMinU:
    case WarpOp::ReduceMinI: return "__reduce_min_sync";
    case WarpOp::ReduceMaxU:
    case WarpOp::ReduceMaxI: return "__reduce_max_sync";
    case WarpOp::ReduceAnd: return "__reduce_and_sync";
    case WarpOp::ReduceOr: return "__reduce_or_sync";
    case WarpOp::ReduceXor: return "__reduce_xor_sync";
  }
  return "warp collective";
}

const char* block_op_name(BlockOp op) {
  switch (op) {
    case BlockOp::Sync: return "__syncthreads";
    case BlockOp::Count: return "__syncthreads_count";
    case BlockOp::And: return "__syncthreads_and";
    case BlockOp::Or: return "__syncthreads_or";
  }
  return "block barrier";
}

}  // namespace imx::simt::detail
