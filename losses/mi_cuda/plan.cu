// Work split and workspace layout of one call (plan.h), and the public *_workspace_bytes.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "losses/mi_cuda/plan.h"
#include "losses/mi_cuda/tile.cuh"

namespace imx::mi::IMX_KNS {
namespace {

constexpr std::size_t kAlign = 256;

std::size_t align_up(std::size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// Appends a region of `bytes` (rounded up) and returns its offset.
std::size_t region(std::size_t& end, std::size_t bytes) {
  const std::size_t offset = end;
  end += align_up(bytes);
  return offset;
}

void check_tuning(const KernelTuning& t) {
  if (t.column_splits < 0 || t.column_splits > 65535)
    throw std::invalid_argument("mi_cuda: KernelTuning::column_splits must be in [0, 65535], got " +
                                std::to_string(t.column_splits));
  if (t.chunk_cols < 0)
    throw std::invalid_argument("mi_cuda: KernelTuning::chunk_cols must be >= 0, got " + std::to_string(t.chunk_cols));
  if (t.precision != Precision::fp32 && t.precision != Precision::tf32 && t.precision != Precision::bf16)
    throw std::invalid_argument("mi_cuda: KernelTuning::precision is not fp32, tf32 or bf16");
  if (t.dg_splits < 0 || t.dg_splits > 64)
    throw std::invalid_argument("mi_cuda: KernelTuning::dg_splits must be in [0, 64], got " +
                                std::to_string(t.dg_splits));
  if (t.product_tile != 0 && t.product_tile != 64 && t.product_tile != 128)
    throw std::invalid_argument("mi_cuda: KernelTuning::product_tile must be 0, 64 or 128, got " +
                                std::to_string(t.product_tile));
  if (t.product_tile == 128 && t.precision == Precision::fp32)
    throw std::invalid_argument("mi_cuda: KernelTuning::product_tile 128 needs tf32 or bf16 (the float32 product has "
                                "64 x 64 tiles)");
  if (t.sweep_tile != 0 && t.sweep_tile != 32 && t.sweep_tile != 64 && t.sweep_tile != 128)
    throw std::invalid_argument("mi_cuda: KernelTuning::sweep_tile must be 0, 32, 64 or 128, got " +
                                std::to_string(t.sweep_tile));
}

// Column splits: enough blocks to fill the device, never more than there are column tiles
// (unless a test asks for it).
int column_splits(int64_t row_tiles, int64_t col_tiles, const KernelTuning& t) {
  if (t.column_splits > 0) return t.column_splits;
  return static_cast<int>(std::clamp<int64_t>(ceil_div(kTargetBlocks, row_tiles), 1, std::min<int64_t>(col_tiles, 65535)));
}

// Blocks of a sweep grid of square tiles of `side` (row tiles x column splits).
int64_t sweep_grid(const Geometry& g, int64_t side, const KernelTuning& t) {
  const int64_t row_tiles = ceil_div(g.R, side);
  return row_tiles * column_splits(row_tiles, ceil_div(g.C, side), t);
}

// The sweeps' tile, a function of the shape like everything in the plan.
//  * Exact float32 sources: 64 x 64 keeps the most reuse per staged value; but a problem whose
//    64 x 64 grid (row tiles x column splits, at most one split per column tile) has fewer
//    blocks than the device has SMs leaves SMs idle for the whole sweep (B = 64, P = 64:
//    R = 64, C = 4096, one row of 64 tiles, 64 blocks for 132 SMs), so it takes 32 x 32 tiles
//    there (2 x 128 tiles, 256 blocks).
//  * The tensor-core sweep (fused tf32/bf16): 128 x 128 (twice the reuse of every staged value)
//    when its grid still gives every SM its two resident blocks (>= 2 x 132 blocks: B = 512,
//    P = 225 is 4 row tiles x 132 splits = 528), else 64 x 64. No 32 x 32 tensor-core tile.
int sweep_micro(Path path, const Geometry& g, const KernelTuning& t) {
  const bool tensor_cores = path == Path::fused && t.precision != Precision::fp32;
  if (t.sweep_tile == 128) {
    if (!tensor_cores)
      throw std::invalid_argument("mi_cuda: KernelTuning::sweep_tile 128 needs the fused path in tf32 or bf16 (the "
                                  "float32 sweeps have 32 x 32 and 64 x 64 tiles)");
    return kLargeMicro;
  }
  if (t.sweep_tile == 32) {
    if (tensor_cores)
      throw std::invalid_argument("mi_cuda: KernelTuning::sweep_tile 32 needs fp32 (the tensor-core sweep has 64 x 64 "
                                  "and 128 x 128 tiles)");
    return kSmallMicro;
  }
  if (t.sweep_tile == 64) return kMicro;
  if (tensor_cores) return sweep_grid(g, kTileSide * kLargeMicro, t) >= 2 * kDeviceSMs ? kLargeMicro : kMicro;
  return sweep_grid(g, kTileM, t) < kDeviceSMs ? kSmallMicro : kMicro;
}

// A tensor-core product's tile for a rows x cols output: 128 x 128 where that grid alone (before
// any depth split) gives every SM its two resident blocks, else 64 x 64; float32: 64 x 64.
int product_tile(int64_t rows, int64_t cols, const KernelTuning& t) {
  if (t.precision == Precision::fp32) return kTileM;
  if (t.product_tile != 0) return t.product_tile;
  constexpr int64_t kLarge = kTileSide * kLargeMicro;
  return ceil_div(rows, kLarge) * ceil_div(cols, kLarge) >= 2 * kDeviceSMs ? int(kLarge) : kTileM;
}

// The fused backward's chunk: all columns when R*C scores fit kChunkScores, else the widest
// multiple of kTileN that does (at least one tile).
int64_t chunk_columns(const Geometry& g, const KernelTuning& t) {
  if (t.chunk_cols > 0) return std::min(g.C, t.chunk_cols);
  if (g.R * g.C <= kChunkScores) return g.C;
  return std::min(g.C, std::max<int64_t>(kTileN, kChunkScores / g.R / kTileN * kTileN));
}

}  // namespace

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
  }
  return "?";
}

Precision parse_precision(const char* name) {
  const std::string n = name ? name : "";
  for (Precision p : {Precision::fp32, Precision::tf32, Precision::bf16})
    if (n == precision_name(p)) return p;
  throw std::invalid_argument("mi_cuda: unknown precision '" + n + "' (fp32, tf32, bf16)");
}

Plan make_plan(Path path, const Problem& problem, Estimator e, bool with_grads, const KernelTuning& tuning) {
  Problem pb = problem;
  if (path == Path::scores) pb.D = 1;  // no features: the width is ignored
  pb.validate_for(e);
  check_tuning(tuning);
  Plan p;
  p.g = Geometry::of(pb);
  p.pointwise = visit_estimator(e, [](auto m) { return decltype(m)::pointwise; });
  p.grads = with_grads;
  p.precision = tuning.precision;
  const int64_t R = p.g.R, C = p.g.C;
  KernelTuning sweep = tuning;
  if (path == Path::fused && tuning.precision != Precision::fp32 && tuning.sweep_tile == 0 &&
      sweep_grid(p.g, kTileM, tuning) < kDeviceSMs)
    sweep.precision = Precision::fp32;  // see Plan::sweep_precision
  p.sweep_precision = sweep.precision;
  p.sweep_micro = sweep_micro(path, p.g, sweep);
  const int64_t side = int64_t(kTileSide) * p.sweep_micro;
  p.row_tiles = ceil_div(R, side);
  p.splits = column_splits(p.row_tiles, ceil_div(C, side), tuning);
  p.chunk_cols = path == Path::fused ? chunk_columns(p.g, tuning) : C;
  p.s_tile = product_tile(R, C, tuning);
  p.dl_tile = product_tile(p.chunk_cols, p.g.D, tuning);
  p.dg_tile = product_tile(R, p.g.D, tuning);

  if (with_grads && path != Path::scores) {
    // dG = dS L sums over a chunk's columns; its output (R x D) alone may be too few tiles to
    // fill the device, so the sum is split (partials reduced in a fixed order afterwards).
    const int64_t out_tiles = ceil_div(R, p.dg_tile) * ceil_div(p.g.D, p.dg_tile);
    int64_t splits = tuning.dg_splits > 0
                         ? tuning.dg_splits
                         : std::clamp<int64_t>(std::min(ceil_div(kTargetBlocks, out_tiles),
                                                        ceil_div(p.chunk_cols, kMinDgSplitDepth)),
                                               1, kMaxDgSplits);
    // A small output (B = 64, D = 512: 8 tiles; 16 splits by the rule above = 128 blocks) gets
    // enough splits to give every SM a block, each still at least one depth stage deep.
    const bool raise = tuning.dg_splits == 0 && out_tiles * splits < kDeviceSMs;
    if (raise) splits = std::max(splits, std::min(ceil_div(kDeviceSMs, out_tiles), ceil_div(p.chunk_cols, kTileK)));
    splits = std::min(splits, p.chunk_cols);
    // Split depths are whole stages: rounded up (at most `splits` pieces), or down when the
    // count was raised to fill the SMs (at least `splits` pieces: 4096 / 17 -> 240, 18 splits).
    p.dg_split_depth = raise ? std::max<int64_t>(kTileK, p.chunk_cols / splits / kTileK * kTileK)
                             : ceil_div(ceil_div(p.chunk_cols, splits), kTileK) * kTileK;
    p.dg_splits = static_cast<int>(ceil_div(p.chunk_cols, p.dg_split_depth));
  }

  const std::size_t f = sizeof(float);
  std::size_t end = 0;
  p.loss = region(end, f);
  if (p.pointwise) {
    p.pointwise_partials = region(end, std::size_t(p.row_tiles) * p.splits * sizeof(PointwiseSums));
  } else {
    p.row_partials = region(end, std::size_t(R) * p.splits * sizeof(LsePart<float>));
    p.pos_scores = region(end, std::size_t(R) * p.g.P * f);
    p.group_lse = region(end, std::size_t(R) * f);
    p.group_weight = region(end, std::size_t(R) * f);
  }
  if (path == Path::unfused) p.scores = region(end, std::size_t(R) * C * f);
  else if (path == Path::fused && with_grads) p.scores = region(end, std::size_t(R) * p.chunk_cols * f);
  if (with_grads && p.dg_splits > 1)
    p.dg_partials = region(end, std::size_t(p.dg_splits) * R * p.g.D * f);
  p.bytes = end;
  return p;
}

int64_t sweep_blocks(const Plan& plan) { return plan.row_tiles * plan.splits; }

int64_t dl_blocks(const Plan& plan) {
  return plan.grads ? ceil_div(plan.chunk_cols, plan.dl_tile) * ceil_div(plan.g.D, plan.dl_tile) : 0;
}

int64_t dg_blocks(const Plan& plan) {
  return plan.grads ? ceil_div(plan.g.R, plan.dg_tile) * ceil_div(plan.g.D, plan.dg_tile) * plan.dg_splits : 0;
}

Workspace carve_workspace(const Plan& plan, void* workspace, std::size_t workspace_bytes, const char* who) {
  if (workspace == nullptr)
    throw std::invalid_argument(std::string("mi_cuda ") + who + ": workspace is null (needs " +
                                std::to_string(plan.bytes) + " bytes)");
  if (reinterpret_cast<std::uintptr_t>(workspace) % 16 != 0)
    throw std::invalid_argument(std::string("mi_cuda ") + who + ": workspace must be 16-byte aligned");
  if (workspace_bytes < plan.bytes)
    throw std::invalid_argument(std::string("mi_cuda ") + who + ": workspace of " + std::to_string(workspace_bytes) +
                                " bytes is too small, needs " + std::to_string(plan.bytes));
  // Every region but the loss has a non-zero offset (the loss comes first), so 0 means "absent".
  auto* base = static_cast<unsigned char*>(workspace);
  auto at = [&](std::size_t offset) { return static_cast<void*>(base + offset); };
  Workspace w;
  w.loss = static_cast<float*>(at(plan.loss));
  w.pointwise_partials = plan.pointwise ? static_cast<PointwiseSums*>(at(plan.pointwise_partials)) : nullptr;
  w.row_partials = plan.pointwise ? nullptr : static_cast<LsePart<float>*>(at(plan.row_partials));
  w.pos_scores = plan.pointwise ? nullptr : static_cast<float*>(at(plan.pos_scores));
  w.group_lse = plan.pointwise ? nullptr : static_cast<float*>(at(plan.group_lse));
  w.group_weight = plan.pointwise ? nullptr : static_cast<float*>(at(plan.group_weight));
  w.scores = plan.scores ? static_cast<float*>(at(plan.scores)) : nullptr;
  w.dg_partials = plan.dg_partials ? static_cast<float*>(at(plan.dg_partials)) : nullptr;
  return w;
}

std::size_t fused_workspace_bytes(const Problem& pb, Estimator e, bool with_grads, const KernelTuning& tuning) {
  return make_plan(Path::fused, pb, e, with_grads, tuning).bytes;
}

std::size_t unfused_workspace_bytes(const Problem& pb, Estimator e, bool with_grads, const KernelTuning& tuning) {
  return make_plan(Path::unfused, pb, e, with_grads, tuning).bytes;
}

std::size_t scores_workspace_bytes(const Problem& pb, Estimator e, bool with_grads) {
  return make_plan(Path::scores, pb, e, with_grads, {}).bytes;
}

}  // namespace imx::mi::IMX_KNS
