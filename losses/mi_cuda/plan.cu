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
}

// Column splits: enough blocks to fill the device, never more than there are column tiles
// (unless a test asks for it).
int column_splits(int64_t row_tiles, int64_t col_tiles, const KernelTuning& t) {
  if (t.column_splits > 0) return t.column_splits;
  return static_cast<int>(std::clamp<int64_t>(ceil_div(kTargetBlocks, row_tiles), 1, std::min<int64_t>(col_tiles, 65535)));
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
  p.row_tiles = ceil_div(R, kTileM);
  p.splits = column_splits(p.row_tiles, ceil_div(C, kTileN), tuning);
  p.chunk_cols = path == Path::fused ? chunk_columns(p.g, tuning) : C;

  if (with_grads && path != Path::scores) {
    // dG = dS L sums over a chunk's columns; its output (R x D) alone may be too few tiles to
    // fill the device, so the sum is split (partials reduced in a fixed order afterwards).
    const int64_t out_tiles = p.row_tiles * ceil_div(p.g.D, kTileN);
    int64_t splits = tuning.dg_splits > 0
                         ? tuning.dg_splits
                         : std::clamp<int64_t>(std::min(ceil_div(kTargetBlocks, out_tiles),
                                                        ceil_div(p.chunk_cols, kMinDgSplitDepth)),
                                               1, kMaxDgSplits);
    splits = std::min(splits, p.chunk_cols);
    p.dg_split_depth = ceil_div(ceil_div(p.chunk_cols, splits), kTileK) * kTileK;
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
