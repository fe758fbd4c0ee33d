// The sweep: one kernel body that walks the score matrix in square tiles (32, 64 or 128) and hands each
// tile to an epilogue (epilogues.cuh). Grid: x = row tiles, y = column splits; the block
// (x, y) takes the y-th contiguous share of the column tiles of [c_begin, c_end), so a few
// hundred blocks cover any width and per-block state stays O(rows) (flash-decoding style:
// splits beyond the number of column tiles get no tile and report empty statistics).
#pragma once
#include "losses/mi_cuda/epilogues.cuh"
#include "losses/mi_cuda/launchers.h"
#include "losses/mi_cuda/tc_tile.cuh"

namespace imx::mi::IMX_KNS {

template <class Source, class Epilogue>
IMX_KERNEL void __launch_bounds__(kTileThreads, Source::kMinBlocks)
    sweep_kernel(Source source, Epilogue epilogue, int64_t c_begin, int64_t c_end) {
  constexpr int M = Source::kMicroTile, kSide = kTileSide * M;
  IMX_SHARED(typename Source::Shared, sm);
  Epilogue ep = epilogue;
  const int64_t r0 = static_cast<int64_t>(blockIdx.x) * kSide;
  const int64_t tiles = ceil_div(c_end - c_begin, kSide);
  const int64_t splits = gridDim.y, split = blockIdx.y;
  const int64_t first = tiles * split / splits, last = tiles * (split + 1) / splits;
  typename Source::Acc acc;
  ep.template begin<M>(r0);
  for (int64_t t = first; t < last; ++t) {
    const int64_t c0 = c_begin + t * kSide;
    source.tile(r0, c0, sm, acc);
    ep.template tile<M>(r0, c0, c_end, acc);
  }
  ep.template finish<M>(r0);
}

// Launches the sweep over columns [c_begin, c_end) with the plan's grid.
template <class Source, class Epilogue>
void launch_sweep(const Source& source, const Epilogue& epilogue, int64_t row_tiles, int splits,
                  int64_t c_begin, int64_t c_end, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(splits));
  allow_dynamic_shared(sweep_kernel<Source, Epilogue>, Source::kDynamicShared);
  IMX_LAUNCH((sweep_kernel<Source, Epilogue>), grid, kTileThreads, Source::kDynamicShared, stream)(source, epilogue,
                                                                                                  c_begin, c_end);
}

// Calls f(source) with the tile source that `s` describes, in the plan's sweep tile: 32 or 64
// for the exact float32 products, 64 or 128 for the tensor-core one (make_plan picks no other).
// A stored S is read in any of the three: 128 when the fused dv/infoNCE backward reads the S
// its 128 x 128 statistics sweep kept (run.cu), over the same grid.
template <class F>
void with_score_source(const Plan& plan, const ScoreSource& s, F&& f) {
  const Geometry& g = plan.g;
  const Operand<true> global{s.global, g.D, g.R, g.D}, local{s.local, g.D, g.C, g.D};
  const int m = plan.sweep_micro;
  if (s.scores != nullptr) {
    if (m == kSmallMicro) f(StoredScores<kSmallMicro>{s.scores, g.C, g.R, g.C});
    else if (m == kMicro) f(StoredScores<kMicro>{s.scores, g.C, g.R, g.C});
    else f(StoredScores<kLargeMicro>{s.scores, g.C, g.R, g.C});
  } else if (s.precision == Precision::fp32) {
    if (m == kSmallMicro) f(ComputedScores<kSmallMicro>{global, local});
    else if (m == kMicro) f(ComputedScores<kMicro>{global, local});
    else throw std::logic_error("mi_cuda: the float32 sweeps have 32 or 64 tiles");
  } else {
    const bool bf16 = s.precision == Precision::bf16;
    if (m == kLargeMicro) f(TensorCoreScores<TcTile128>{global, local, bf16});
    else if (m == kMicro) f(TensorCoreScores<TcTile64>{global, local, bf16});
    else throw std::logic_error("mi_cuda: the tensor-core sweep has 64 or 128 tiles");
  }
}

}  // namespace imx::mi::IMX_KNS
