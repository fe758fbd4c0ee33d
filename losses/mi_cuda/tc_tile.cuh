// The tensor-core version of the tile product of tile.cuh: the same kTileM x kTileN output
// tile of out[i][j] = sum_k A(i,k) B(j,k) over the same Operand views, handed over in the same
// TileAcc layout, so every epilogue (and the product kernels' stores) work unchanged.
//
//  * Inputs stay float32 in memory and are rounded when they reach the tensor cores: tf32
//    (wmma::__float_to_tf32 on each fragment slot) or bf16 (the float stage is converted into a bf16
//    copy); accumulation is float32 in both.
//  * Stages of kTcK depth arrive by cp.async (16-byte copies where the operand allows, 4-byte
//    ones with zero fill at the edges and for misaligned views), kTcStages deep: while a stage
//    is multiplied the next ones are in flight.
//  * 8 warps: warp w owns rows 16 (w / 2) .. +16 and columns 32 (w % 2) .. +32 of the tile as
//    two 16 x 16 accumulator fragments.
//  * The accumulators go through shared memory (store_matrix_sync) into TileAcc: no code
//    depends on how the hardware spreads a fragment over lanes (the emulation scrambles it).
//
// Shared memory: TcShared in the kernel's dynamic shared memory (kTcSharedBytes, 81 KiB with
// the alignment slack), so two blocks fit an SM (228 KiB) with registers capped at 128.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/simt/tensor_core.h"
#include "losses/mi_cuda/tile.cuh"

namespace imx::mi::IMX_KNS {

constexpr int kTcK = 32;      // depth of one cp.async stage
constexpr int kTcStages = 3;  // stages in flight
constexpr int kTcPad = 4;     // floats of padding per float row (keeps 16-byte rows, spreads banks)
constexpr int kTcPad16 = 8;   // bf16 elements of padding per bf16 row (16 bytes)
constexpr int kTcWarps = kTileThreads / 32;
static_assert(kTcWarps == 8 && kTileM == 64 && kTileN == 64, "the warp layout covers a 64 x 64 tile");

// A stage holds rows x kTcK of an operand in its memory order: [row][depth] when the operand
// is depth-contiguous, [depth][row] otherwise (so cp.async copies straight rows).
template <bool kDepthContiguous>
struct StageLayout {
  static constexpr int kInner = kDepthContiguous ? kTcK : kTileM;  // contiguous extent
  static constexpr int kOuter = kDepthContiguous ? kTileM : kTcK;
  static constexpr int kLd = kInner + kTcPad;
  static constexpr int kLd16 = kInner + kTcPad16;
  // Offset of element (row i, depth k) in a float (ld) or bf16 (ld16) stage.
  IMX_HD static int at(int i, int k, int ld) { return kDepthContiguous ? i * ld + k : k * ld + i; }
};
constexpr int kTcStageFloats = kTileM * (kTcK + kTcPad) > kTcK * (kTileM + kTcPad) ? kTileM * (kTcK + kTcPad)
                                                                                   : kTcK * (kTileM + kTcPad);
constexpr int kTcStage16 = kTileM * (kTcK + kTcPad16) > kTcK * (kTileM + kTcPad16) ? kTileM * (kTcK + kTcPad16)
                                                                                   : kTcK * (kTileM + kTcPad16);

struct TcShared {
  float a[kTcStages][kTcStageFloats];
  float b[kTcStages][kTcStageFloats];
  __nv_bfloat16 a16[kTcStage16];
  __nv_bfloat16 b16[kTcStage16];
  float acc[kTileM][kTileN + kTcPad];
};
// Fragment pointers must be 32-byte aligned: every region and row offset used is a multiple of
// 32 bytes from the start, which is rounded up to 128 bytes (hence the slack).
constexpr int kTcAlign = 128;
constexpr std::size_t kTcSharedBytes = sizeof(TcShared) + kTcAlign;

IMX_DEVICE TcShared& tc_shared() {
  IMX_DYNAMIC_SHARED(unsigned char, raw);
  const std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(raw) + kTcAlign - 1) / kTcAlign * kTcAlign;
  return *reinterpret_cast<TcShared*>(p);
}

// Issues the cp.async copies of rows [i0, i0 + kTileM) x depth [k0, k0 + kTcK) of `op` into a
// float stage (zeros outside the operand or from k_end on). Commits nothing.
template <bool kDepthContiguous>
IMX_DEVICE void tc_issue_stage(const Operand<kDepthContiguous>& op, int64_t i0, int64_t k0, int64_t k_end,
                               float* dst) {
  using L = StageLayout<kDepthContiguous>;
  // Element (i, k) is data[outer * ld + inner] with (outer, inner) = (i, k) or (k, i).
  const int64_t outer0 = kDepthContiguous ? i0 : k0, inner0 = kDepthContiguous ? k0 : i0;
  const int64_t outer_end = kDepthContiguous ? op.rows : k_end, inner_end = kDepthContiguous ? k_end : op.rows;
  const bool aligned = op.ld % 4 == 0 && reinterpret_cast<std::uintptr_t>(op.data) % 16 == 0 && inner0 % 4 == 0;
  constexpr int kVecsPerRow = L::kInner / 4;
  for (int v = static_cast<int>(threadIdx.x); v < L::kOuter * kVecsPerRow; v += kTileThreads) {
    const int outer = v / kVecsPerRow, inner = v % kVecsPerRow * 4;
    const int64_t go = outer0 + outer, gi = inner0 + inner;
    float* d = dst + outer * L::kLd + inner;
    const float* src = op.data + go * op.ld + gi;
    if (aligned && go < outer_end && gi + 4 <= inner_end) {
      __pipeline_memcpy_async(d, src, 16);
    } else {
      for (int e = 0; e < 4; ++e) {
        const bool in = go < outer_end && gi + e < inner_end;
        __pipeline_memcpy_async(d + e, in ? src + e : op.data, 4, in ? 0 : 4);
      }
    }
  }
}

// The bf16 copy of a float stage (same element order, bf16 row pitch).
template <bool kDepthContiguous>
IMX_DEVICE void tc_convert_stage(const float* src, __nv_bfloat16* dst) {
  using L = StageLayout<kDepthContiguous>;
  for (int e = static_cast<int>(threadIdx.x); e < L::kOuter * L::kInner; e += kTileThreads) {
    const int outer = e / L::kInner, inner = e % L::kInner;
    dst[outer * L::kLd16 + inner] = __float2bfloat16(src[outer * L::kLd + inner]);
  }
}

namespace tcw = imx::tensor_core::wmma;

// Fragment layouts of the stages: A (M x K) is row-major in [row][depth]; B enters the mma as
// K x N, so [row][depth] storage of B is column-major for it.
template <bool kDepthContiguous>
using ALayout = std::conditional_t<kDepthContiguous, tcw::row_major, tcw::col_major>;
template <bool kDepthContiguous>
using BLayout = std::conditional_t<kDepthContiguous, tcw::col_major, tcw::row_major>;

using TcAcc = tcw::fragment<tcw::accumulator, 16, 16, 8, float>;
using TcAcc16 = tcw::fragment<tcw::accumulator, 16, 16, 16, float>;

// One stage's products for this warp: rows wr*16.., columns wc*32 + 16 f.. (f = 0, 1).
template <bool kAC, bool kBC>
IMX_DEVICE void tc_stage_mma_tf32(const float* a, const float* b, TcAcc (&acc)[2]) {
  using LA = StageLayout<kAC>;
  using LB = StageLayout<kBC>;
  const int warp = static_cast<int>(threadIdx.x) / 32, wr = warp / 2, wc = warp % 2;
  for (int kk = 0; kk < kTcK; kk += 8) {
    tcw::fragment<tcw::matrix_a, 16, 16, 8, tcw::precision::tf32, ALayout<kAC>> fa;
    tcw::load_matrix_sync(fa, a + LA::at(wr * 16, kk, LA::kLd), LA::kLd);
    for (int t = 0; t < fa.num_elements; ++t) fa.x[t] = tcw::__float_to_tf32(fa.x[t]);
    for (int f = 0; f < 2; ++f) {
      tcw::fragment<tcw::matrix_b, 16, 16, 8, tcw::precision::tf32, BLayout<kBC>> fb;
      tcw::load_matrix_sync(fb, b + LB::at(wc * 32 + f * 16, kk, LB::kLd), LB::kLd);
      for (int t = 0; t < fb.num_elements; ++t) fb.x[t] = tcw::__float_to_tf32(fb.x[t]);
      tcw::mma_sync(acc[f], fa, fb, acc[f]);
    }
  }
}

template <bool kAC, bool kBC>
IMX_DEVICE void tc_stage_mma_bf16(const __nv_bfloat16* a, const __nv_bfloat16* b, TcAcc16 (&acc)[2]) {
  using LA = StageLayout<kAC>;
  using LB = StageLayout<kBC>;
  const int warp = static_cast<int>(threadIdx.x) / 32, wr = warp / 2, wc = warp % 2;
  for (int kk = 0; kk < kTcK; kk += 16) {
    tcw::fragment<tcw::matrix_a, 16, 16, 16, __nv_bfloat16, ALayout<kAC>> fa;
    tcw::load_matrix_sync(fa, a + LA::at(wr * 16, kk, LA::kLd16), LA::kLd16);
    for (int f = 0; f < 2; ++f) {
      tcw::fragment<tcw::matrix_b, 16, 16, 16, __nv_bfloat16, BLayout<kBC>> fb;
      tcw::load_matrix_sync(fb, b + LB::at(wc * 32 + f * 16, kk, LB::kLd16), LB::kLd16);
      tcw::mma_sync(acc[f], fa, fb, acc[f]);
    }
  }
}

// The accumulators into sm.acc (row-major tile), by store_matrix_sync.
template <class Frag>
IMX_DEVICE void tc_store_acc(const Frag (&acc)[2], TcShared& sm) {
  const int warp = static_cast<int>(threadIdx.x) / 32, wr = warp / 2, wc = warp % 2;
  for (int f = 0; f < 2; ++f) {
    float* dst = &sm.acc[wr * 16][wc * 32 + f * 16];
#ifndef IMX_MI_PLANT_FRAGMENT_LAYOUT
    tcw::store_matrix_sync(dst, acc[f], kTileN + kTcPad, tcw::mem_row_major);
#else
    // Test-only planted bug (tests/mi_cuda): writes the slots where sm_80's mma.m16n8 puts
    // them, an assumption about the hardware layout that the emulation's scrambled fragments
    // expose.
    const int lane = static_cast<int>(threadIdx.x) % 32;
    for (int t = 0; t < acc[f].num_elements; ++t)
      dst[(lane / 4 + 8 * ((t / 2) % 2)) * (kTileN + kTcPad) + 2 * (lane % 4) + t % 2 + 8 * (t / 4)] = acc[f].x[t];
#endif
  }
}

// acc = the tile at (i0, j0) of A B^T over depth [k_begin, k_end) in tf32 or bf16 (fp32 is
// multiply_tile's). Every thread of the block calls it with the same arguments (barriers).
template <bool kAC, bool kBC>
IMX_DEVICE void tc_multiply_tile(const Operand<kAC>& a, const Operand<kBC>& b, int64_t i0, int64_t j0,
                                 int64_t k_begin, int64_t k_end, bool bf16, TileAcc& out) {
  TcShared& sm = tc_shared();
  TcAcc acc32[2];
  TcAcc16 acc16[2];
  for (int f = 0; f < 2; ++f) {
    tcw::fill_fragment(acc32[f], 0.0f);
    tcw::fill_fragment(acc16[f], 0.0f);
  }
  const int64_t stages = (k_end - k_begin + kTcK - 1) / kTcK;
  // Prologue: the first kTcStages - 1 stages in flight. Every iteration commits one group
  // (possibly empty), so "all but the newest kTcStages - 2 groups" is always stage t.
  for (int s = 0; s < kTcStages - 1; ++s) {
    if (s < stages) {
      tc_issue_stage(a, i0, k_begin + s * kTcK, k_end, sm.a[s]);
      tc_issue_stage(b, j0, k_begin + s * kTcK, k_end, sm.b[s]);
    }
    __pipeline_commit();
  }
  for (int64_t t = 0; t < stages; ++t) {
#ifndef IMX_MI_PLANT_MISSING_PIPELINE_WAIT  // test-only switch: tests/mi_cuda shows that losing it is caught
    __pipeline_wait_prior(kTcStages - 2);  // this thread's copies of stage t have landed
#endif
    __syncthreads();  // everyone's have, and stage t - 1 (refilled next) is no longer read
    const int64_t next = t + kTcStages - 1;
    if (next < stages) {
      tc_issue_stage(a, i0, k_begin + next * kTcK, k_end, sm.a[next % kTcStages]);
      tc_issue_stage(b, j0, k_begin + next * kTcK, k_end, sm.b[next % kTcStages]);
    }
    __pipeline_commit();
    const int buf = static_cast<int>(t % kTcStages);
    if (bf16) {
      tc_convert_stage<kAC>(sm.a[buf], sm.a16);
      tc_convert_stage<kBC>(sm.b[buf], sm.b16);
      __syncthreads();  // the bf16 copies are complete before any warp loads fragments
      tc_stage_mma_bf16<kAC, kBC>(sm.a16, sm.b16, acc16);
    } else {
      tc_stage_mma_tf32<kAC, kBC>(sm.a[buf], sm.b[buf], acc32);
    }
  }
  __pipeline_wait_prior(0);  // only empty groups remain; leaves no copy in flight
  if (bf16) tc_store_acc(acc16, sm);
  else tc_store_acc(acc32, sm);
  __syncthreads();  // the whole tile is in sm.acc
  for (int x = 0; x < kMicro; ++x)
    for (int y = 0; y < kMicro; ++y) out.v[x][y] = sm.acc[micro_row(x)][micro_col(y)];
  // sm.acc is rewritten only after the next call's barriers: no barrier needed here.
}

// Fused sweeps on tensor cores: S[r][c] = <G[r], L[c]> in tf32 or bf16.
struct TensorCoreScores {
  Operand<true> global;  // R x D
  Operand<true> local;   // C x D
  bool bf16;             // else tf32
  static constexpr int kMicroTile = kMicro;  // 64 x 64 only: the warp layout covers that tile
  using Acc = TileAcc;
  using Shared = NoShared;
  static constexpr std::size_t kDynamicShared = kTcSharedBytes;
  static constexpr int kMinBlocks = 2;  // caps registers at 128: two blocks per SM
  IMX_DEVICE void tile(int64_t r0, int64_t c0, Shared&, TileAcc& acc) const {
    tc_multiply_tile(global, local, r0, c0, 0, global.depth, bf16, acc);
  }
};

}  // namespace imx::mi::IMX_KNS
