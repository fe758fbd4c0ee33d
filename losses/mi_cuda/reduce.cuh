// Warp and block all-reductions over the small POD states of the MI kernels (double sums,
// pairs of sums, partial log-sum-exps). kernels/ops/common.cuh reduces floats only; these carry
// the double accumulators the loss uses across tiles and blocks.
//
// Emulation rules kept: every shuffle is an explicit full-warp __shfl_xor_sync, blockDim.x is a
// multiple of 32, and every thread of the block reaches block_allreduce.
#pragma once
#include "kernels/ops/common.cuh"
#include "losses/mi_cuda/types.cuh"

namespace imx::mi::IMX_KNS {

using imx::IMX_KNS::ceil_div;
using imx::IMX_KNS::kFullMask;
using imx::IMX_KNS::kWarp;

IMX_DEVICE float shfl_xor(float v, int lane_mask) { return __shfl_xor_sync(kFullMask, v, lane_mask); }
IMX_DEVICE double shfl_xor(double v, int lane_mask) { return __shfl_xor_sync(kFullMask, v, lane_mask); }
IMX_DEVICE PointwiseSums shfl_xor(PointwiseSums v, int lane_mask) {
  return PointwiseSums{shfl_xor(v.pos, lane_mask), shfl_xor(v.neg, lane_mask)};
}
template <class A>
IMX_DEVICE LsePart<A> shfl_xor(LsePart<A> v, int lane_mask) {
  return LsePart<A>{shfl_xor(v.max, lane_mask), shfl_xor(v.sum, lane_mask)};
}

struct AddOp {
  IMX_DEVICE double operator()(double a, double b) const { return a + b; }
  IMX_DEVICE PointwiseSums operator()(PointwiseSums a, PointwiseSums b) const {
    return PointwiseSums{a.pos + b.pos, a.neg + b.neg};
  }
};
struct MergeLseOp {
  template <class A>
  IMX_DEVICE LsePart<A> operator()(LsePart<A> a, LsePart<A> b) const { return merge_lse(a, b); }
};

// All-reduce over aligned groups of kLanes consecutive lanes (a power of two <= 32); every
// lane of the warp must call it.
template <int kLanes, class T, class Op>
IMX_DEVICE T lanes_allreduce(T v, Op op) {
  static_assert(kLanes >= 1 && kLanes <= 32 && (kLanes & (kLanes - 1)) == 0, "kLanes: a power of two <= 32");
  for (int delta = kLanes / 2; delta > 0; delta /= 2) v = op(v, shfl_xor(v, delta));
  return v;
}

// All-reduce over the block; every thread gets the same value, combined in a fixed order
// (deterministic for a given block size).
template <class T, class Op>
IMX_DEVICE T block_allreduce(T v, Op op) {
  IMX_SHARED(T[32], warp_results);
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int warp = static_cast<int>(threadIdx.x) / kWarp;
  const int warps = static_cast<int>(blockDim.x) / kWarp;
  v = lanes_allreduce<kWarp>(v, op);
  if (lane == 0) warp_results[warp] = v;
  __syncthreads();  // every warp's result is written before any thread reads them
  T total = warp_results[0];
  for (int w = 1; w < warps; ++w) total = op(total, warp_results[w]);
  __syncthreads();  // every thread has read them before a following call rewrites them
  return total;
}

}  // namespace imx::mi::IMX_KNS
