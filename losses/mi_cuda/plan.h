// How one call splits its work and carves its workspace; shared by the fused and the unfused
// paths, and by *_workspace_bytes (so the reported size is exactly what a call uses).
#pragma once
#include <cstddef>
#include <cstdint>

#include "losses/mi_cuda/mi_cuda.h"
#include "losses/mi_cuda/tile.cuh"
#include "losses/mi_cuda/types.cuh"

namespace imx::mi::IMX_KNS {

// Blocks a sweep or product aims for: 4 per SM of an H200 (132 SMs). A constant rather than a
// device query, so that the work split (and with it every float summation order) depends on
// the problem shape only, identically in the emulation and on any device.
constexpr int64_t kDeviceSMs = 132;
constexpr int64_t kTargetBlocks = 4 * kDeviceSMs;
// Scores in one dS chunk of the fused backward (32 MiB of floats): bounds the chunk buffer by a
// constant instead of by R*C.
constexpr int64_t kChunkScores = int64_t(1) << 23;
constexpr int kMaxDgSplits = 16;            // default split-K cap of the dG product
constexpr int64_t kMinDgSplitDepth = 256;   // default: each split sums at least this many columns

// fused: scores recomputed; unfused: S materialized; scores: the caller's S, dS as the output
// (no gradient products).
enum class Path { fused, unfused, scores };

struct Plan {
  Geometry g;
  bool pointwise = false;   // an f-divergence (one sweep) rather than dv/infoNCE
  bool grads = false;
  int sweep_micro = kMicro; // the sweeps' tile: 16 * sweep_micro square (kMicro: 64, kSmallMicro: 32,
                            // kLargeMicro: 128, tensor cores only)
  int64_t row_tiles = 0;    // ceil(R / sweep tile side): grid x of every sweep
  int splits = 0;           // column splits: grid y of every sweep
  int64_t chunk_cols = 0;   // columns of dS per backward chunk (unfused, scores: all C)
  int dg_splits = 1;        // split-K of dG = dS L over a chunk (1 without the products)
  Precision precision = Precision::fp32;  // of the gradient products and the unfused S
  // Of the fused sweeps' recomputed scores: `precision`, except on problems too small for the
  // tensor-core tiles to give every SM a block (their smallest is 64 x 64), where the exact
  // float32 32 x 32 sweep runs instead: there more blocks beat faster tiles (B = 64, P = 64:
  // 64 tensor-core blocks or 256 float32 ones for 132 SMs), and exact scores only shrink the
  // error the user accepted. KernelTuning::sweep_tile keeps the tensor-core sweep.
  Precision sweep_precision = Precision::fp32;
  // Output tile sides of the products (64, or 128 on tensor cores): S = G L^T of the unfused
  // path, dL = dS^T G, dG = dS L.
  int s_tile = kTileM, dl_tile = kTileM, dg_tile = kTileM;
  int64_t dg_split_depth = 0;
  // Byte offsets of the regions in the workspace; `bytes` is the total.
  std::size_t loss = 0, pointwise_partials = 0, row_partials = 0, pos_scores = 0, group_lse = 0,
              group_weight = 0, scores = 0, dg_partials = 0, bytes = 0;
};

// Blocks of the plan's kernels (the device fill the plan is chosen for; tests check it): a
// sweep; the dL product of a full chunk; the dG product of a full chunk (0 without gradients).
int64_t sweep_blocks(const Plan& plan);
int64_t dl_blocks(const Plan& plan);
int64_t dg_blocks(const Plan& plan);

// Validates the problem (validate_for) and the tuning; throws std::invalid_argument.
Plan make_plan(Path path, const Problem& pb, Estimator e, bool with_grads, const KernelTuning& tuning);

// Typed pointers into a caller's workspace laid out by a plan.
struct Workspace {
  float* loss;
  PointwiseSums* pointwise_partials;  // [row_tiles * splits]
  LsePart<float>* row_partials;       // [R][splits]
  float* pos_scores;                  // [R][P]
  float* group_lse;                   // [R]
  float* group_weight;                // [R]
  float* scores;                      // unfused: S (R x C); fused: a dS chunk (R x chunk_cols);
                                      // scores path: null (the caller's matrices)
  float* dg_partials;                 // [dg_splits][R][D] when dg_splits > 1
};

// Throws std::invalid_argument naming `who` when the workspace is null, too small or misaligned.
Workspace carve_workspace(const Plan& plan, void* workspace, std::size_t workspace_bytes, const char* who);

}  // namespace imx::mi::IMX_KNS
