// What each lane of a completed warp collective receives: a pure function of the lanes'
// arguments, kept apart from the scheduler so it reads like the CUDA documentation.
#pragma once

#include <array>
#include <cstdint>

#include "kernels/simt/emu/device_api.h"

namespace imx::simt::detail {

struct LaneArgs {
  std::uint64_t value = 0;  // the lane's var / predicate / operand
  int param = 0;            // srcLane, delta or laneMask
  int width = 32;
};

// What a shuffle returns when it reads a lane outside the mask (undefined in CUDA): a NaN
// as float or double, a large odd number as an integer, so that using it fails a test.
inline constexpr std::uint64_t kInactiveLanePoison = 0x7FF4BADB7FBADBADull;

// Results for every lane in `mask` (other entries are 0). Widths must be valid
// (is_valid_shuffle_width) for shuffles.
std::array<std::uint64_t, 32> resolve_warp_collective(WarpOp op, unsigned mask,
                                                       const std::array<LaneArgs, 32>& lanes);

bool is_shuffle(WarpOp op);
bool is_valid_shuffle_width(int width);  // a power of two in [1, 32]
const char* warp_op_name(WarpOp op);
const char* block_op_name(BlockOp op);

}  // namespace imx::simt::detail
