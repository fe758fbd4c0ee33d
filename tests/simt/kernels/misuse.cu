// Kernels that misuse barriers and warp collectives, one kind each. They are valid CUDA that
// would hang or be undefined on the device; the emulation must report them with file:line.
// Each k...Line constant is the source line of the offending call (misuse_line).
#include "tests/simt/kernels/simt_test_kernels.cuh"

namespace imx::IMX_KNS::simt_test {

namespace {

constexpr unsigned kFull = 0xffffffffu;

constexpr int kPartialBarrierLine = __LINE__ + 3;
IMX_KERNEL void partial_barrier_kernel(int reaching) {
  if (static_cast<int>(threadIdx.x) < reaching) {
    __syncthreads();
  }
}

constexpr int kExitBarrierLine = __LINE__ + 4;
IMX_KERNEL void exit_before_barrier_kernel(float* sink, int exiting_thread) {
  if (static_cast<int>(threadIdx.x) == exiting_thread) return;
  sink[threadIdx.x] = 1.0f;
  __syncthreads();
  sink[threadIdx.x] = 2.0f;
}

constexpr int kOddBarrierLine = __LINE__ + 3;
IMX_KERNEL void divergent_barriers_kernel() {
  if (threadIdx.x % 2 == 1) {
    __syncthreads();
  } else {
    __syncthreads();
  }
}

constexpr int kExitedLaneShuffleLine = __LINE__ + 4;
IMX_KERNEL void shuffle_with_exited_lane_kernel(float* sink, int exiting_lane) {
  const float v = static_cast<float>(threadIdx.x);
  if (static_cast<int>(threadIdx.x % 32) == exiting_lane) return;
  sink[threadIdx.x] = __shfl_sync(kFull, v, 0);
}

constexpr int kSelfMaskLine = __LINE__ + 2;
IMX_KERNEL void shuffle_mask_without_self_kernel(float* sink) {
  sink[threadIdx.x] = __shfl_sync(0x1u, static_cast<float>(threadIdx.x), 0);
}

constexpr int kMixedMaskLine = __LINE__ + 3;
IMX_KERNEL void shuffle_with_mixed_masks_kernel(float* sink) {
  const unsigned mask = threadIdx.x % 32 == 0 ? 0x0000ffffu : kFull;
  sink[threadIdx.x] = __shfl_down_sync(mask, static_cast<float>(threadIdx.x), 1);
}

constexpr int kPartialWarpLine = __LINE__ + 2;
IMX_KERNEL void shuffle_full_mask_partial_warp_kernel(float* sink) {
  sink[threadIdx.x] = __shfl_xor_sync(kFull, static_cast<float>(threadIdx.x), 1);
}

constexpr int kShuffleVsBarrierLine = __LINE__ + 6;
IMX_KERNEL void shuffle_against_block_barrier_kernel(float* sink) {
  float v = static_cast<float>(threadIdx.x);
  if (threadIdx.x % 32 == 1) {
    __syncthreads();
  } else {
    v = __shfl_sync(kFull, v, 1);
  }
  sink[threadIdx.x] = v;
}

constexpr int kSyncwarpLine = __LINE__ + 5;
IMX_KERNEL void syncwarp_at_two_sites_kernel() {
  if (threadIdx.x % 32 < 16) {
    __syncwarp();
  } else {
    __syncwarp();
  }
}

// A helper holding a barrier, called at three places: threads < 32 at the first and second,
// the others at the second and third. Every barrier instance is then met at the helper's one
// source line, but through different calls (the first instance: call 1 against call 2).
constexpr int kHelperBarrierLine = __LINE__ + 3;
IMX_DEVICE void add_then_sync(float* sink, float value) {
  sink[threadIdx.x] += value;
  __syncthreads();
}
IMX_KERNEL void helper_barrier_shifted_calls_kernel(float* sink) {
  sink[threadIdx.x] = 0.0f;
  if (threadIdx.x < 32) add_then_sync(sink, 1.0f);
  add_then_sync(sink, 2.0f);
  if (threadIdx.x >= 32) add_then_sync(sink, 4.0f);
}

}  // namespace

int misuse_line(Misuse kind) {
  switch (kind) {
    case Misuse::PartialBarrier: return kPartialBarrierLine;
    case Misuse::ExitBeforeBarrier: return kExitBarrierLine;
    case Misuse::DivergentBarriers: return kOddBarrierLine;
    case Misuse::ShuffleWithExitedLane: return kExitedLaneShuffleLine;
    case Misuse::ShuffleMaskWithoutSelf: return kSelfMaskLine;
    case Misuse::ShuffleMixedMasks: return kMixedMaskLine;
    case Misuse::ShuffleFullMaskPartialWarp: return kPartialWarpLine;
    case Misuse::ShuffleAgainstBlockBarrier: return kShuffleVsBarrierLine;
    case Misuse::SyncwarpAtTwoSites: return kSyncwarpLine;
    case Misuse::HelperBarrierShiftedCalls: return kHelperBarrierLine;
  }
  return 0;
}

void run_misuse(Misuse kind, int block, int param, cudaStream_t stream) {
  // One float per thread for the kernels that store something (so that the collective
  // cannot be optimised away).
  float* sink = nullptr;
  cudaMalloc(&sink, static_cast<size_t>(block) * sizeof(float));
  struct Free {
    float* p;
    ~Free() { cudaFree(p); }
  } free_sink{sink};
  switch (kind) {
    case Misuse::PartialBarrier:
      IMX_LAUNCH(partial_barrier_kernel, 1, block, 0, stream)(param);
      break;
    case Misuse::ExitBeforeBarrier:
      IMX_LAUNCH(exit_before_barrier_kernel, 1, block, 0, stream)(sink, param);
      break;
    case Misuse::DivergentBarriers:
      IMX_LAUNCH(divergent_barriers_kernel, 1, block, 0, stream)();
      break;
    case Misuse::ShuffleWithExitedLane:
      IMX_LAUNCH(shuffle_with_exited_lane_kernel, 1, block, 0, stream)(sink, param);
      break;
    case Misuse::ShuffleMaskWithoutSelf:
      IMX_LAUNCH(shuffle_mask_without_self_kernel, 1, block, 0, stream)(sink);
      break;
    case Misuse::ShuffleMixedMasks:
      IMX_LAUNCH(shuffle_with_mixed_masks_kernel, 1, block, 0, stream)(sink);
      break;
    case Misuse::ShuffleFullMaskPartialWarp:
      IMX_LAUNCH(shuffle_full_mask_partial_warp_kernel, 1, block, 0, stream)(sink);
      break;
    case Misuse::ShuffleAgainstBlockBarrier:
      IMX_LAUNCH(shuffle_against_block_barrier_kernel, 1, block, 0, stream)(sink);
      break;
    case Misuse::SyncwarpAtTwoSites:
      IMX_LAUNCH(syncwarp_at_two_sites_kernel, 1, block, 0, stream)();
      break;
    case Misuse::HelperBarrierShiftedCalls:
      IMX_LAUNCH(helper_barrier_shifted_calls_kernel, 1, block, 0, stream)(sink);
      break;
  }
}

}  // namespace imx::IMX_KNS::simt_test
