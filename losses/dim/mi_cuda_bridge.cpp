#include "losses/dim/mi_cuda_bridge.h"

#include <cublas_v2.h>

#include <mutex>

#include "engine/backend.h"
#include "engine/cuda/cuda_backend.h"
#include "losses/mi_cuda/mi_cuda.h"
#include "losses/mi_cuda/mi_cuda_blas.h"

namespace imx::detail {

namespace {

mi::cuda::Precision kernel_precision(MiCudaPrecision p) {
  switch (p) {
    case MiCudaPrecision::fp32: return mi::cuda::Precision::fp32;
    case MiCudaPrecision::tf32: return mi::cuda::Precision::tf32;
    case MiCudaPrecision::bf16: return mi::cuda::Precision::bf16;
  }
  return mi::cuda::Precision::fp32;
}

CudaBackend& cuda_backend() { return static_cast<CudaBackend&>(backend(Device::CUDA)); }

// The MI path's own cuBLAS handle on the backend's stream: its precision is set per GEMM
// (compute type), independent of the backend's TF32 setting for the model's products.
cublasContext* mi_blas_handle() {
  static std::once_flag once;
  static cublasHandle_t handle = nullptr;
  std::call_once(once, [] {
    check(cublasCreate(&handle) == CUBLAS_STATUS_SUCCESS, "mi_loss", "cublasCreate failed");
    check(cublasSetStream(handle, cuda_backend().stream()) == CUBLAS_STATUS_SUCCESS, "mi_loss",
          "cublasSetStream failed");
  });
  return handle;
}

const float* f32(const Tensor& t) { return static_cast<const float*>(t.raw()); }
float* f32(Tensor* t) { return t ? static_cast<float*>(t->raw()) : nullptr; }

}  // namespace

size_t mi_cuda_path_workspace_bytes(const mi::Problem& pb, mi::Estimator e, MiCudaPath path, bool with_grads) {
  switch (path) {
    case MiCudaPath::blas: return mi::cuda::blas_workspace_bytes(pb, e, with_grads);
    case MiCudaPath::fused: return mi::cuda::fused_workspace_bytes(pb, e, with_grads);
    case MiCudaPath::unfused: return mi::cuda::unfused_workspace_bytes(pb, e, with_grads);
  }
  fail("mi_loss", "unknown CUDA path");
}

void mi_cuda_path(const mi::Problem& pb, mi::Estimator e, MiCudaPath path, MiCudaPrecision precision,
                  const Tensor& local, const Tensor& global, Tensor& loss, Tensor* gl, Tensor* gg) {
  check(local.dtype() == DType::F32, "mi_loss", "the CUDA kernels compute in float32, got " + local.describe());
  CudaBackend& cuda = cuda_backend();
  const size_t bytes = mi_cuda_path_workspace_bytes(pb, e, path, gl || gg);
  // Returned to the allocator's cache on exit; later work on the same stream is ordered after
  // the kernels, so the block cannot be reused while they still read it.
  auto workspace = cuda.allocator().allocate(bytes);
  float* out = static_cast<float*>(loss.raw());
  if (path == MiCudaPath::blas) {
    mi::cuda::blas_async(mi_blas_handle(), pb, e, f32(local), f32(global), f32(gl), f32(gg), 1.0f, out,
                         workspace.get(), bytes, cuda.stream(), kernel_precision(precision));
    cuda.op_done("mi_loss (cuBLAS)");
    return;
  }
  mi::cuda::KernelTuning tuning;
  tuning.precision = kernel_precision(precision);
  auto run = path == MiCudaPath::fused ? mi::cuda::fused_async : mi::cuda::unfused_async;
  run(pb, e, f32(local), f32(global), f32(gl), f32(gg), 1.0f, out, workspace.get(), bytes, cuda.stream(), tuning);
  cuda.op_done(path == MiCudaPath::fused ? "mi_loss (fused)" : "mi_loss (unfused)");
}

void mi_cuda(const mi::Problem& pb, mi::Estimator e, mi::Impl impl, const Tensor& local,
             const Tensor& global, Tensor& loss, Tensor* gl, Tensor* gg) {
  const MiCudaOptions options = mi_cuda_options();
  mi_cuda_path(pb, e, choose_mi_cuda_path(pb, impl, options), options.precision, local, global, loss, gl, gg);
}

void mi_cuda_gemms(const mi::Problem& pb, MiCudaPrecision precision, const Tensor& local, const Tensor& global,
                   Tensor& gl, Tensor& gg) {
  auto workspace = cuda_backend().allocator().allocate(mi::cuda::blas_workspace_bytes(pb, mi::Estimator::jsd, false));
  mi::cuda::blas_gemms_only(mi_blas_handle(), pb, f32(local), f32(global), f32(&gl), f32(&gg), workspace.get(),
                            kernel_precision(precision));
}

void mi_cuda_scores(const mi::Problem& pb, mi::Estimator e, const Tensor& scores, Tensor& loss, Tensor* ds) {
  check(scores.dtype() == DType::F32, "mi_loss_from_scores",
        "the CUDA kernels compute in float32, got " + scores.describe());
  auto& cuda = cuda_backend();
  const size_t bytes = mi::cuda::scores_workspace_bytes(pb, e, ds != nullptr);
  auto workspace = cuda.allocator().allocate(bytes);  // stream-ordered reuse, as in mi_cuda
  mi::cuda::scores_async(pb, e, static_cast<const float*>(scores.raw()), ds ? static_cast<float*>(ds->raw()) : nullptr,
                         1.0f, static_cast<float*>(loss.raw()), workspace.get(), bytes, cuda.stream());
  cuda.op_done("mi_loss_from_scores");
}

size_t mi_cuda_workspace_bytes(const mi::Problem& pb, mi::Estimator e, mi::Impl impl, bool with_grads) {
  return mi_cuda_path_workspace_bytes(pb, e, choose_mi_cuda_path(pb, impl, mi_cuda_options()), with_grads);
}

}  // namespace imx::detail
