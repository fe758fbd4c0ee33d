// The MI loss on CUDA tensors, through the fused kernels of losses/mi_cuda. Kept behind this
// plain header so the autograd op compiles the same with or without the CUDA build.
#pragma once
#include <cstddef>

#include "engine/tensor.h"
#include "losses/mi/mi.h"

namespace imx::detail {

// The products' arithmetic on CUDA (losses/mi_cuda: Precision). fp32 is exact float32.
enum class MiCudaPrecision { fp32, tf32, bf16 };
// The three CUDA implementations: cuBLAS GEMMs around the estimator sweeps (S stored), the
// fused kernels (S never stored), the unfused kernels (S stored, hand-written products).
enum class MiCudaPath { blas, fused, unfused };
const char* mi_cuda_path_name(MiCudaPath p);
const char* mi_cuda_precision_name(MiCudaPrecision p);

struct MiCudaOptions {
  // mi_loss with Impl::fused takes the cuBLAS path while the (B*K) x (B*P) float32 score matrix
  // fits in this many bytes, the fused kernels beyond (0: always the fused kernels). Default
  // 256 MiB: every training size of this project (B=512, P=225, K=1 is 225 MiB), while the
  // fused kernels keep the memory bound for larger batches and K. Environment:
  // IMX_MI_CUDA_BLAS_BUDGET_MB.
  std::size_t blas_budget_bytes = std::size_t(256) << 20;
  // Environment: IMX_MI_CUDA_PRECISION=fp32|tf32|bf16.
  MiCudaPrecision precision = MiCudaPrecision::fp32;
};
// The options from the two environment values (null = unset); throws Error on a bad value.
MiCudaOptions mi_cuda_options_from(const char* budget_mb, const char* precision);
// Read from the environment at first use; set_mi_cuda_options overrides them for the process.
MiCudaOptions mi_cuda_options();
void set_mi_cuda_options(const MiCudaOptions& options);
// The path mi_loss takes for impl: unfused -> the unfused kernels; fused -> cuBLAS when S fits
// the budget, else the fused kernels; naive -> Error (CPU only).
MiCudaPath choose_mi_cuda_path(const mi::Problem& pb, mi::Impl impl, const MiCudaOptions& options);

// One explicit path and precision (benchmarks): as mi_cuda below.
void mi_cuda_path(const mi::Problem& pb, mi::Estimator e, MiCudaPath path, MiCudaPrecision precision,
                  const Tensor& local, const Tensor& global, Tensor& loss, Tensor* gl, Tensor* gg);
size_t mi_cuda_path_workspace_bytes(const mi::Problem& pb, mi::Estimator e, MiCudaPath path, bool with_grads);
// The problem's three products alone on cuBLAS (S, dL, dG), for the benchmark's comparison.
void mi_cuda_gemms(const mi::Problem& pb, MiCudaPrecision precision, const Tensor& local, const Tensor& global,
                   Tensor& gl, Tensor& gg);

// Writes the loss into `loss` (a one-element float32 CUDA tensor) and, when given, the
// gradients into gl / gg (float32 CUDA tensors shaped like local / global), without a host
// synchronization. Throws when infomax was built without CUDA.
void mi_cuda(const mi::Problem& pb, mi::Estimator e, mi::Impl impl, const Tensor& local,
             const Tensor& global, Tensor& loss, Tensor* gl, Tensor* gg);

// mi_loss_from_scores on a float32 CUDA score matrix [B*K, B*P]: the loss into `loss` and, when
// given, dLoss/dS into ds (shaped like scores), without a host synchronization. Throws when
// infomax was built without CUDA.
void mi_cuda_scores(const mi::Problem& pb, mi::Estimator e, const Tensor& scores, Tensor& loss, Tensor* ds);

// Device scratch bytes one call needs (the "extra memory" of the CUDA kernels).
size_t mi_cuda_workspace_bytes(const mi::Problem& pb, mi::Estimator e, mi::Impl impl, bool with_grads);

}  // namespace imx::detail
