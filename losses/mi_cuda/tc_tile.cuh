// The tensor-core version of the tile product of tile.cuh: the same square output tiles of
// out[i][j] = sum_k A(i,k) B(j,k) over the same Operand views, read in the same thread layout
// as a TileAccOf (by at(x, y)), so every epilogue (and the product kernels' stores) work
// unchanged.
//
//  * One mainloop, a template over the tile shape (TcShape: side, stage depth, stages):
//    TcTile64 (64 x 64, stages of depth 32, 3 in flight) and TcTile128 (128 x 128, depth 16,
//    4 stages), which the plan picks for large fused sweeps and products (plan.cu).
//  * Inputs stay float32 in memory and are rounded when they reach the tensor cores: tf32
//    (wmma::__float_to_tf32 on each fragment slot) or bf16 (the float stage is converted into a bf16
//    copy); accumulation is float32 in both.
//  * Stages arrive by cp.async (16-byte copies where the operand allows, 4-byte ones with zero
//    fill at the edges and for misaligned views), kStages deep: while a stage is multiplied the
//    next ones are in flight.
//  * 8 warps in a 4 x 2 grid: warp w owns rows (side / 4) (w / 2) .. and columns (side / 2)
//    (w % 2) .. of the tile as kFragRows x kFragCols accumulator fragments of 16 x 16 (1 x 2 for
//    64 x 64, 2 x 4 for 128 x 128).
//  * The accumulators go through shared memory (store_matrix_sync), where the epilogues and
//    the product stores read them (SharedTileOf, the TileAccOf thread layout): no code depends
//    on how the hardware spreads a fragment over lanes (the emulation scrambles it). That tile
//    buffer overlays the float stages (dead once the mainloop ends), behind barriers.
//
// Shared memory: TcSharedOf<S> in the kernel's dynamic shared memory (tc_shared_bytes<S>(): 64.1 KiB
// for 64 x 64, 92.1 KiB for 128 x 128, with the alignment slack), so two blocks fit an SM
// (228 KiB, 1 KiB reserved per block) with registers capped at 128 (65536 / (2 * 256)).
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/simt/tensor_core.h"
#include "losses/mi_cuda/tile.cuh"

namespace imx::mi::IMX_KNS {

constexpr int kTcPad = 4;     // floats of padding per float row (keeps 16-byte rows, spreads banks)
constexpr int kTcPad16 = 8;   // bf16 elements of padding per bf16 row (16 bytes)
constexpr int kTcWarps = kTileThreads / 32;
constexpr int kTcWarpRows = 4, kTcWarpCols = 2;  // the warp grid over the tile
static_assert(kTcWarps == kTcWarpRows * kTcWarpCols, "8 warps in a 4 x 2 grid");
// Fragment pointers must be 32-byte aligned: every region and row offset used is a multiple of
// 32 bytes from the start, which is rounded up to 128 bytes (hence the slack).
constexpr int kTcAlign = 128;

// A stage holds kSide rows x kDepth of an operand in its memory order: [row][depth] when the
// operand is depth-contiguous, [depth][row] otherwise (so cp.async copies straight rows).
template <int kSide_, int kDepth, bool kDepthContiguous>
struct StageLayout {
  static constexpr int kInner = kDepthContiguous ? kDepth : kSide_;  // contiguous extent
  static constexpr int kOuter = kDepthContiguous ? kSide_ : kDepth;
  static constexpr int kLd = kInner + kTcPad;
  static constexpr int kLd16 = kInner + kTcPad16;
  // Offset of element (row i, depth k) in a float (ld) or bf16 (ld16) stage.
  IMX_HD static int at(int i, int k, int ld) { return kDepthContiguous ? i * ld + k : k * ld + i; }
};

constexpr int tc_max(int a, int b) { return a > b ? a : b; }

// The shape of a tensor-core tile: kSide x kSide outputs (16 kMicro per side: thread t owns
// kMicro x kMicro of them in TileAccOf<kMicro>), stages of kDepth, kStages of them.
template <int kSide_, int kDepth_, int kStages_>
struct TcShape {
  static constexpr int kSide = kSide_, kDepth = kDepth_, kStages = kStages_;
  static constexpr int kMicro = kSide / kTileSide;
  static constexpr int kFragRows = kSide / (16 * kTcWarpRows), kFragCols = kSide / (16 * kTcWarpCols);
  static_assert(kMicro * kTileSide == kSide && kFragRows * 16 * kTcWarpRows == kSide &&
                    kFragCols * 16 * kTcWarpCols == kSide,
                "whole micro-tiles and fragments");
  static_assert(kDepth % 16 == 0 && kStages >= 2, "stages of whole bf16 k-steps, at least double buffered");
  template <bool kC>
  using Layout = StageLayout<kSide, kDepth, kC>;
  static constexpr int kStageFloats = tc_max(Layout<true>::kOuter * Layout<true>::kLd,
                                            Layout<false>::kOuter * Layout<false>::kLd);
  static constexpr int kStage16 = tc_max(Layout<true>::kOuter * Layout<true>::kLd16,
                                        Layout<false>::kOuter * Layout<false>::kLd16);
  static constexpr int kAccLd = kSide + kTcPad;
};
using TcTile64 = TcShape<64, 32, 3>;
using TcTile128 = TcShape<128, 16, 4>;
static_assert(TcTile64::kSide == kTileM && TcTile64::kMicro == kMicro, "the 64 x 64 tile is tile.cuh's");
static_assert(TcTile128::kMicro == kLargeMicro, "the 128 x 128 tile is the plan's large sweep tile");

template <class S>
struct TcSharedOf {
  struct Stages {
    float a[S::kStages][S::kStageFloats];
    float b[S::kStages][S::kStageFloats];
  };
  // The float stages, or (after the mainloop) the row-major output tile.
  union {
    Stages stages;
    float acc[S::kSide][S::kAccLd];
  } u;
  __nv_bfloat16 a16[S::kStage16];
  __nv_bfloat16 b16[S::kStage16];
};
// Dynamic shared memory a kernel over tile S asks for.
template <class S>
constexpr std::size_t tc_shared_bytes() { return sizeof(TcSharedOf<S>) + kTcAlign; }
// 64 x 64: 3 stages x 2 operands x 64 x 36 floats (54 KiB; the 17 KiB tile overlays them) +
// 2 x 64 x 40 bf16 (10 KiB). 128 x 128: 4 x 2 x 128 x 20 floats (80 KiB; the 66 KiB tile
// overlays them) + 2 x 128 x 24 bf16 (12 KiB). Two blocks per SM: 2 x (92.1 + 1) <= 228 KiB.
static_assert(tc_shared_bytes<TcTile64>() == 65664 && tc_shared_bytes<TcTile128>() == 94336,
              "the shared-memory budget stated in README.md");
static_assert(2 * (tc_shared_bytes<TcTile128>() + 1024) <= 228 * 1024, "two 128 x 128 blocks per SM");

template <class S>
IMX_DEVICE TcSharedOf<S>& tc_shared() {
  IMX_DYNAMIC_SHARED(unsigned char, raw);
  const std::uintptr_t p = (reinterpret_cast<std::uintptr_t>(raw) + kTcAlign - 1) / kTcAlign * kTcAlign;
  return *reinterpret_cast<TcSharedOf<S>*>(p);
}

// Issues the cp.async copies of rows [i0, i0 + kSide) x depth [k0, k0 + kDepth) of `op` into a
// float stage (zeros outside the operand or from k_end on). Commits nothing.
template <class S, bool kDepthContiguous>
IMX_DEVICE void tc_issue_stage(const Operand<kDepthContiguous>& op, int64_t i0, int64_t k0, int64_t k_end,
                               float* dst) {
  using L = typename S::template Layout<kDepthContiguous>;
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
template <class S, bool kDepthContiguous>
IMX_DEVICE void tc_convert_stage(const float* src, __nv_bfloat16* dst) {
  using L = typename S::template Layout<kDepthContiguous>;
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

// The wmma shape and element types of a precision: tf32 m16n16k8, bf16 m16n16k16; float32
// accumulators in both.
template <bool kBf16>
struct TcKind {
  static constexpr int kK = kBf16 ? 16 : 8;
  using Elem = std::conditional_t<kBf16, __nv_bfloat16, float>;  // of the stage the fragments load
  using FragElem = std::conditional_t<kBf16, __nv_bfloat16, tcw::precision::tf32>;
  using Acc = tcw::fragment<tcw::accumulator, 16, 16, kK, float>;
  template <bool kC>
  using A = tcw::fragment<tcw::matrix_a, 16, 16, kK, FragElem, ALayout<kC>>;
  template <bool kC>
  using B = tcw::fragment<tcw::matrix_b, 16, 16, kK, FragElem, BLayout<kC>>;
};

// This warp's first row and column of the tile.
template <class S>
IMX_DEVICE int tc_warp_row() { return static_cast<int>(threadIdx.x) / 32 / kTcWarpCols * (S::kSide / kTcWarpRows); }
template <class S>
IMX_DEVICE int tc_warp_col() { return static_cast<int>(threadIdx.x) / 32 % kTcWarpCols * (S::kSide / kTcWarpCols); }

// One stage's products for this warp: fragment (fr, fc) at rows warp_row + 16 fr, columns
// warp_col + 16 fc. The A fragments of a k-step are loaded once (kFragRows of them, the
// shorter side) and each B fragment is loaded once and used by all of them.
template <class S, bool kBf16, bool kAC, bool kBC>
IMX_DEVICE void tc_stage_mma(const typename TcKind<kBf16>::Elem* a, const typename TcKind<kBf16>::Elem* b,
                             typename TcKind<kBf16>::Acc (&acc)[S::kFragRows][S::kFragCols]) {
  using K = TcKind<kBf16>;
  using LA = typename S::template Layout<kAC>;
  using LB = typename S::template Layout<kBC>;
  constexpr int lda = kBf16 ? LA::kLd16 : LA::kLd, ldb = kBf16 ? LB::kLd16 : LB::kLd;
  const int wr = tc_warp_row<S>(), wc = tc_warp_col<S>();
  for (int kk = 0; kk < S::kDepth; kk += K::kK) {
    typename K::template A<kAC> fa[S::kFragRows];
    for (int fr = 0; fr < S::kFragRows; ++fr) {
      tcw::load_matrix_sync(fa[fr], a + LA::at(wr + 16 * fr, kk, lda), lda);
      if constexpr (!kBf16)
        for (int t = 0; t < fa[fr].num_elements; ++t) fa[fr].x[t] = tcw::__float_to_tf32(fa[fr].x[t]);
    }
    for (int fc = 0; fc < S::kFragCols; ++fc) {
      typename K::template B<kBC> fb;
      tcw::load_matrix_sync(fb, b + LB::at(wc + 16 * fc, kk, ldb), ldb);
      if constexpr (!kBf16)
        for (int t = 0; t < fb.num_elements; ++t) fb.x[t] = tcw::__float_to_tf32(fb.x[t]);
      for (int fr = 0; fr < S::kFragRows; ++fr) tcw::mma_sync(acc[fr][fc], fa[fr], fb, acc[fr][fc]);
    }
  }
}

// The accumulators into sm.u.acc (row-major tile), by store_matrix_sync.
template <class S, class Frag>
IMX_DEVICE void tc_store_acc(const Frag (&acc)[S::kFragRows][S::kFragCols], TcSharedOf<S>& sm) {
  const int wr = tc_warp_row<S>(), wc = tc_warp_col<S>();
  for (int fr = 0; fr < S::kFragRows; ++fr)
    for (int fc = 0; fc < S::kFragCols; ++fc) {
      float* dst = &sm.u.acc[wr + 16 * fr][wc + 16 * fc];
#ifndef IMX_MI_PLANT_FRAGMENT_LAYOUT
      tcw::store_matrix_sync(dst, acc[fr][fc], S::kAccLd, tcw::mem_row_major);
#else
      // Test-only planted bug (tests/mi_cuda): writes the slots where sm_80's mma.m16n8 puts
      // them, an assumption about the hardware layout that the emulation's scrambled fragments
      // expose.
      const int lane = static_cast<int>(threadIdx.x) % 32;
      for (int t = 0; t < acc[fr][fc].num_elements; ++t)
        dst[(lane / 4 + 8 * ((t / 2) % 2)) * S::kAccLd + 2 * (lane % 4) + t % 2 + 8 * (t / 4)] = acc[fr][fc].x[t];
#endif
    }
}

// The mainloop of one precision: the tile at (i0, j0) over depth [k_begin, k_end) into sm.u.acc
// (complete and visible to the block on return).
template <class S, bool kBf16, bool kAC, bool kBC>
IMX_DEVICE void tc_mainloop(const Operand<kAC>& a, const Operand<kBC>& b, int64_t i0, int64_t j0, int64_t k_begin,
                            int64_t k_end, TcSharedOf<S>& sm) {
  typename TcKind<kBf16>::Acc acc[S::kFragRows][S::kFragCols];
  for (int fr = 0; fr < S::kFragRows; ++fr)
    for (int fc = 0; fc < S::kFragCols; ++fc) tcw::fill_fragment(acc[fr][fc], 0.0f);
  const int64_t stages = (k_end - k_begin + S::kDepth - 1) / S::kDepth;
  // Prologue: the first kStages - 1 stages in flight. Every iteration commits one group
  // (possibly empty), so "all but the newest kStages - 2 groups" is always stage t.
  for (int s = 0; s < S::kStages - 1; ++s) {
    if (s < stages) {
      tc_issue_stage<S>(a, i0, k_begin + s * S::kDepth, k_end, sm.u.stages.a[s]);
      tc_issue_stage<S>(b, j0, k_begin + s * S::kDepth, k_end, sm.u.stages.b[s]);
    }
    __pipeline_commit();
  }
  for (int64_t t = 0; t < stages; ++t) {
#ifndef IMX_MI_PLANT_MISSING_PIPELINE_WAIT  // test-only switch: tests/mi_cuda shows that losing it is caught
    __pipeline_wait_prior(S::kStages - 2);  // this thread's copies of stage t have landed
#endif
    __syncthreads();  // everyone's have, and stage t - 1 (refilled next) is no longer read
    const int64_t next = t + S::kStages - 1;
    if (next < stages) {
      tc_issue_stage<S>(a, i0, k_begin + next * S::kDepth, k_end, sm.u.stages.a[next % S::kStages]);
      tc_issue_stage<S>(b, j0, k_begin + next * S::kDepth, k_end, sm.u.stages.b[next % S::kStages]);
    }
    __pipeline_commit();
    const int buf = static_cast<int>(t % S::kStages);
    if constexpr (kBf16) {
      tc_convert_stage<S, kAC>(sm.u.stages.a[buf], sm.a16);
      tc_convert_stage<S, kBC>(sm.u.stages.b[buf], sm.b16);
      __syncthreads();  // the bf16 copies are complete before any warp loads fragments
      tc_stage_mma<S, true, kAC, kBC>(sm.a16, sm.b16, acc);
    } else {
      tc_stage_mma<S, false, kAC, kBC>(sm.u.stages.a[buf], sm.u.stages.b[buf], acc);
    }
  }
  __pipeline_wait_prior(0);  // only empty groups remain; leaves no copy in flight
  __syncthreads();           // no warp still reads a stage: the tile overwrites them
  tc_store_acc<S>(acc, sm);
  __syncthreads();  // the whole tile is in sm.u.acc
}

// The S::kSide-square tile at (i0, j0) of A B^T over depth [k_begin, k_end) in tf32 or bf16
// (fp32 is multiply_tile's), left row-major in shared memory: the returned view stays valid
// until the next call, and readers (a sweep's epilogue, a product's store) read it there rather
// than holding the tile in registers. Every thread of the block calls it with the same
// arguments (barriers). Each precision's accumulators live only in its own branch.
template <class S, bool kAC, bool kBC>
IMX_DEVICE SharedTileOf<S::kMicro> tc_multiply_tile(const Operand<kAC>& a, const Operand<kBC>& b, int64_t i0,
                                                    int64_t j0, int64_t k_begin, int64_t k_end, bool bf16) {
  TcSharedOf<S>& sm = tc_shared<S>();
  __syncthreads();  // the previous tile, which the first copies overwrite (it overlays the stages), is read
  if (bf16) tc_mainloop<S, true>(a, b, i0, j0, k_begin, k_end, sm);
  else tc_mainloop<S, false>(a, b, i0, j0, k_begin, k_end, sm);
  return SharedTileOf<S::kMicro>{&sm.u.acc[0][0], S::kAccLd};
}

// Fused sweeps on tensor cores: S[r][c] = <G[r], L[c]> in tf32 or bf16, tiles of shape S. The
// epilogue reads the tile from shared memory (SharedTileOf): the 128 x 128 tile's 64 outputs
// per thread are not held in registers.
template <class S>
struct TensorCoreScores {
  Operand<true> global;  // R x D
  Operand<true> local;   // C x D
  bool bf16;             // else tf32
  static constexpr int kMicroTile = S::kMicro;
  using Acc = SharedTileOf<S::kMicro>;
  using Shared = NoShared;
  static constexpr std::size_t kDynamicShared = tc_shared_bytes<S>();
  static constexpr int kMinBlocks = 2;  // caps registers at 128: two blocks per SM
  IMX_DEVICE void tile(int64_t r0, int64_t c0, Shared&, Acc& acc) const {
    acc = tc_multiply_tile<S>(global, local, r0, c0, 0, global.depth, bf16);
  }
};

}  // namespace imx::mi::IMX_KNS
