// The Deep InfoMax MI losses on the GPU: the fused kernel (the score matrix is never stored)
// and the unfused baseline (score matrix materialized), with the semantics of losses/mi/mi.h.
//
// The same declarations name two builds (kernels/simt/simt.h):
//   imx::mi::cuda - compiled by nvcc (library imx_mi_kernels_cuda; host code that includes this
//                   header is compiled with IMX_SIMT_CUDA_HOST, which that target sets);
//   imx::mi::emu  - the same sources run by the SIMT emulation on the CPU (imx_mi_kernels_emu).
//
// Pointers (features, gradients, loss, workspace) are device pointers. float32 only. Every
// call enqueues its kernels on `stream`; the *_async ones return without synchronizing.
// Gradient outputs are overwritten (null skips one; both null = forward only). The workspace
// is caller-provided (e.g. from the engine's caching allocator): at least *_workspace_bytes()
// bytes, 16-byte aligned, contents irrelevant; it must stay untouched until the call's work on
// `stream` has finished. Errors throw std::invalid_argument (bad problem, tuning, workspace)
// or std::runtime_error (a failed CUDA call, naming it).
#pragma once
#include <cstddef>
#include <cstdint>

#include "losses/mi/mi.h"
#include "kernels/simt/simt.h"

namespace imx::mi::IMX_KNS {

// The arithmetic of the three products (scores, dG, dL): exact float32 on CUDA cores (the
// default), or tensor cores with the float32 inputs rounded to tf32 or bf16 as they are loaded
// and float32 accumulation. Everything after the products (the estimator terms, the row
// statistics, the loss sums) is float32/float64 in every mode.
enum class Precision { fp32, tf32, bf16 };
const char* precision_name(Precision p);
Precision parse_precision(const char* name);  // "fp32" | "tf32" | "bf16"; std::invalid_argument

// Work-split knobs, for tests and benchmarks; 0 = the default (see README.md). Results do not
// depend on them beyond float rounding; `precision` chooses the products' arithmetic.
struct KernelTuning {
  int column_splits = 0;  // column splits per row tile of the sweeps (blockIdx.y); <= 65535
  int64_t chunk_cols = 0;  // fused backward: columns of dS formed per chunk
  int dg_splits = 0;       // split-K of the dG product over a chunk's columns; <= 64
  Precision precision = Precision::fp32;
  // Side of the sweeps' score tiles: 64; 32 (exact float32 score sources only: the fused fp32
  // sweeps and every sweep over a stored S); 128 (the fused tf32/bf16 sweeps only). 0 = by
  // shape: 32 where 64 x 64 float32 tiles would make fewer blocks than an H200 has SMs; 128 for
  // the tensor-core sweep where its grid has at least 2 x 132 blocks.
  int sweep_tile = 0;
  // Side of the tensor-core products' tiles (dL, dG, the unfused S; tf32/bf16 only): 64 or 128;
  // 0 = by shape: 128 where the product's own 128 x 128 grid has at least 2 x 132 blocks.
  int product_tile = 0;
};

// Exact bytes the call needs for the given problem and tuning (the formula is in README.md).
// No term grows like B*B for the fused path.
std::size_t fused_workspace_bytes(const Problem& pb, Estimator e, bool with_grads,
                                  const KernelTuning& tuning = {});
std::size_t unfused_workspace_bytes(const Problem& pb, Estimator e, bool with_grads,
                                    const KernelTuning& tuning = {});

// Enqueue only: the loss is written to *loss_device (one device float).
void fused_async(const Problem& pb, Estimator e, const float* local, const float* global,
                 float* grad_local, float* grad_global, float grad_scale, float* loss_device,
                 void* workspace, std::size_t workspace_bytes, cudaStream_t stream,
                 const KernelTuning& tuning = {});
void unfused_async(const Problem& pb, Estimator e, const float* local, const float* global,
                   float* grad_local, float* grad_global, float grad_scale, float* loss_device,
                   void* workspace, std::size_t workspace_bytes, cudaStream_t stream,
                   const KernelTuning& tuning = {});

// The estimators over a (B*K) x (B*P) score matrix the caller provides (critics that output
// scores directly), with the layout and semantics of mi::from_scores: row i*K + k, column j*P + p,
// positives j == i; pb.D is ignored. Enqueue only: the loss goes to *loss_device and, when
// grad_scores is not null, dLoss/dS times grad_scale to grad_scores (R x C, leading dimension
// C; it may be `scores` itself, overwritten in place). The workspace holds the estimator's
// statistics only, never a copy of the matrix.
std::size_t scores_workspace_bytes(const Problem& pb, Estimator e, bool with_grads);
void scores_async(const Problem& pb, Estimator e, const float* scores, float* grad_scores, float grad_scale,
                  float* loss_device, void* workspace, std::size_t workspace_bytes, cudaStream_t stream);

// Convenience: the same, with the loss kept in the workspace and returned after synchronizing
// `stream`.
float fused(const Problem& pb, Estimator e, const float* local, const float* global,
            float* grad_local, float* grad_global, float grad_scale, void* workspace,
            std::size_t workspace_bytes, cudaStream_t stream, const KernelTuning& tuning = {});
float unfused(const Problem& pb, Estimator e, const float* local, const float* global,
              float* grad_local, float* grad_global, float grad_scale, void* workspace,
              std::size_t workspace_bytes, cudaStream_t stream, const KernelTuning& tuning = {});

// Dispatch by implementation; Impl::naive is not offered on the device (std::invalid_argument).
std::size_t workspace_bytes(Impl impl, const Problem& pb, Estimator e, bool with_grads,
                            const KernelTuning& tuning = {});
float compute(Impl impl, const Problem& pb, Estimator e, const float* local, const float* global,
              float* grad_local, float* grad_global, float grad_scale, void* workspace,
              std::size_t workspace_bytes, cudaStream_t stream, const KernelTuning& tuning = {});

}  // namespace imx::mi::IMX_KNS
