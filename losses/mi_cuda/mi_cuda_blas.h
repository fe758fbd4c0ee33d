// The expert baseline and production path for scores that fit in memory: the unfused estimator
// on cuBLAS (blas_path.h: score GEMM, the estimator sweeps of losses/mi_cuda over the stored S,
// two gradient GEMMs). Device build only (library imx_mi_blas_cuda); host code includes it with
// IMX_SIMT_CUDA_HOST. Pointers are device pointers, float32; enqueue only, no synchronization.
#pragma once
#include <cstddef>

#include "losses/mi_cuda/mi_cuda.h"

struct cublasContext;  // cublasHandle_t, without cublas_v2.h for the includer

namespace imx::mi::cuda {

// S (R x C floats) + the estimator's statistics (scores_workspace_bytes).
std::size_t blas_workspace_bytes(const Problem& pb, Estimator e, bool with_grads);

// The products run on `handle` (whose stream must be `stream`) with float32 inputs and
// outputs: fp32 = CUBLAS_COMPUTE_32F_PEDANTIC (exact float32), tf32 = CUBLAS_COMPUTE_32F_FAST_TF32,
// bf16 = CUBLAS_COMPUTE_32F_FAST_16BF (inputs rounded to bf16 inside cuBLAS, float32
// accumulation). The estimator itself is float32/float64 in every mode.
void blas_async(cublasContext* handle, const Problem& pb, Estimator e, const float* local, const float* global,
                float* grad_local, float* grad_global, float grad_scale, float* loss_device, void* workspace,
                std::size_t workspace_bytes, cudaStream_t stream, Precision precision = Precision::fp32);

// The three GEMMs of the problem alone (S, dL, dG into `workspace` of blas_workspace_bytes and
// the gradient buffers): the cuBLAS rate the benchmark compares the MI paths against.
void blas_gemms_only(cublasContext* handle, const Problem& pb, const float* local, const float* global,
                     float* grad_local, float* grad_global, void* workspace, Precision precision);

}  // namespace imx::mi::cuda
