// cuBLAS behind blas_path.h: each ColMajorGemm becomes one cublasGemmEx.
#include <cublas_v2.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "losses/mi_cuda/blas_path.h"
#include "losses/mi_cuda/mi_cuda_blas.h"

namespace imx::mi::cuda {
namespace {

cublasComputeType_t compute_type(Precision p) {
  switch (p) {
    case Precision::fp32: return CUBLAS_COMPUTE_32F_PEDANTIC;
    case Precision::tf32: return CUBLAS_COMPUTE_32F_FAST_TF32;
    case Precision::bf16: return CUBLAS_COMPUTE_32F_FAST_16BF;
  }
  throw std::invalid_argument("mi_cuda blas: unknown precision");
}

int as_int(int64_t v, const char* what) {
  if (v > std::numeric_limits<int>::max())
    throw std::invalid_argument(std::string("mi_cuda blas: ") + what + " = " + std::to_string(v) +
                                " exceeds cuBLAS's int range");
  return static_cast<int>(v);
}

struct CublasGemm {
  cublasHandle_t handle;
  Precision precision;
  void operator()(const blas_path::ColMajorGemm& g) const {
    const float one = 1.0f, zero = 0.0f;
    const cublasStatus_t status = cublasGemmEx(
        handle, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, as_int(g.m, "m"),
        as_int(g.n, "n"), as_int(g.k, "k"), &one, g.a, CUDA_R_32F, as_int(g.lda, "lda"), g.b, CUDA_R_32F,
        as_int(g.ldb, "ldb"), &zero, g.c, CUDA_R_32F, as_int(g.ldc, "ldc"), compute_type(precision),
        CUBLAS_GEMM_DEFAULT);
    if (status != CUBLAS_STATUS_SUCCESS)
      throw std::runtime_error(std::string("mi_cuda blas: cublasGemmEx failed: ") + cublasGetStatusString(status));
  }
};

}  // namespace

std::size_t blas_workspace_bytes(const Problem& pb, Estimator e, bool with_grads) {
  return blas_path::score_bytes(pb) + scores_workspace_bytes(pb, e, with_grads);
}

void blas_async(cublasContext* handle, const Problem& pb, Estimator e, const float* local, const float* global,
                float* grad_local, float* grad_global, float grad_scale, float* loss_device, void* workspace,
                std::size_t workspace_bytes, cudaStream_t stream, Precision precision) {
  if (local == nullptr || global == nullptr || loss_device == nullptr)
    throw std::invalid_argument("mi_cuda blas_async: features and loss_device must not be null");
  const bool grads = grad_local != nullptr || grad_global != nullptr;
  const std::size_t need = blas_workspace_bytes(pb, e, grads);
  if (workspace == nullptr || workspace_bytes < need)
    throw std::invalid_argument("mi_cuda blas_async: workspace of " + std::to_string(workspace_bytes) +
                                " bytes, needs " + std::to_string(need));
  const std::size_t rest = workspace_bytes - blas_path::score_bytes(pb);
  blas_path::run(pb, local, global, grad_local, grad_global, static_cast<unsigned char*>(workspace),
                 CublasGemm{handle, precision}, [&](const float* S, float* dS, unsigned char* ws) {
                   scores_async(pb, e, S, dS, grad_scale, loss_device, ws, rest, stream);
                 });
}

void blas_gemms_only(cublasContext* handle, const Problem& pb, const float* local, const float* global,
                     float* grad_local, float* grad_global, void* workspace, Precision precision) {
  const CublasGemm gemm{handle, precision};
  float* S = static_cast<float*>(workspace);
  gemm(blas_path::score_gemm(pb, local, global, S));
  gemm(blas_path::dlocal_gemm(pb, S, global, grad_local));
  gemm(blas_path::dglobal_gemm(pb, S, local, grad_global));
}

}  // namespace imx::mi::cuda
