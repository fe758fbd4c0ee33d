// The kernel launchers behind the fused and unfused paths (internal). Each enqueues on
// `stream` and returns; failures of the launch itself throw std::runtime_error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "losses/mi_cuda/plan.h"
#include "losses/mi_cuda/tile.cuh"

namespace imx::mi::IMX_KNS {

// Where the sweeps get scores: recomputed from G and L (fused), or read from S (unfused).
struct ScoreSource {
  const float* global;  // R x D
  const float* local;   // C x D
  const float* scores;  // R x C, or null to recompute
  Precision precision = Precision::fp32;  // of the recomputed products
};

// f-divergences over columns [c_begin, c_end): the block sums of the loss terms go to
// `partials` (added to them when `accumulate`), and when `ds` is not null, dS (times
// grad_scale) of column c to ds[r * ld_ds + c - c_begin].
void sweep_pointwise(Estimator e, const Plan& plan, const ScoreSource& source, int64_t c_begin,
                     int64_t c_end, float* ds, int64_t ld_ds, float grad_scale,
                     PointwiseSums* partials, bool accumulate, cudaStream_t stream);
// dv/infoNCE forward over all columns: row partial log-sum-exps ([R][splits]) and positives;
// every score also to store_scores (R x C) when it is not null.
void sweep_lse_stats(Estimator e, const Plan& plan, const ScoreSource& source,
                     LsePart<float>* row_partials, float* pos_scores, float* store_scores, cudaStream_t stream);
// dv/infoNCE backward over columns [c_begin, c_end): dS as in sweep_pointwise.
void sweep_lse_grad(Estimator e, const Plan& plan, const ScoreSource& source, int64_t c_begin,
                    int64_t c_end, const float* group_lse, const float* group_weight,
                    float grad_scale, float* ds, int64_t ld_ds, cudaStream_t stream);

// One block each: the loss from the sweep partials; for dv/infoNCE also each row's group
// log-sum-exp N and weight a (the backward's row statistics).
void combine_pointwise(const Plan& plan, const PointwiseSums* partials, float* loss, cudaStream_t stream);
void combine_lse(Estimator e, const Plan& plan, const Workspace& ws, float* loss, cudaStream_t stream);

// out (a.rows x b.rows, leading dimension ld_out) = A B^T, or out += A B^T when `accumulate`.
// With splits > 1 the depth is cut into pieces of split_depth (a multiple of kTileK) whose
// products go to `partials` (splits x a.rows x b.rows) and are then summed in a fixed order.
// precision: exact float32 (tile.cuh) or tensor cores (tc_tile.cuh); tile: the output tile's
// side, 64 or (tensor cores only) 128.
template <bool kADepthContiguous, bool kBDepthContiguous>
void product(const Operand<kADepthContiguous>& a, const Operand<kBDepthContiguous>& b, float* out,
             int64_t ld_out, bool accumulate, int splits, int64_t split_depth, float* partials,
             Precision precision, int tile, cudaStream_t stream);

// Raises a kernel's dynamic shared memory limit when it needs more than the default 48 KiB
// (both builds enforce the limit). A host-side attribute write, no synchronization.
template <class Kernel>
void allow_dynamic_shared(Kernel* kernel, std::size_t bytes) {
  if (bytes <= 48 * 1024) return;
  const cudaError_t status =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("mi_cuda: cudaFuncSetAttribute failed: ") + cudaGetErrorString(status));
}

// Throws std::runtime_error naming `what` if the last launch failed (real CUDA; the emulation
// throws at the launch itself).
void check_launch(const char* what);

}  // namespace imx::mi::IMX_KNS
