#include "losses/dim/mi_cuda_bridge.h"

#include "engine/backend.h"
#include "engine/cuda/cuda_backend.h"
#include "losses/mi_cuda/mi_cuda.h"

namespace imx::detail {

void mi_cuda(const mi::Problem& pb, mi::Estimator e, mi::Impl impl, const Tensor& local,
             const Tensor& global, Tensor& loss, Tensor* gl, Tensor* gg) {
  check(local.dtype() == DType::F32, "mi_loss", "the CUDA kernels compute in float32, got " + local.describe());
  check(impl != mi::Impl::naive, "mi_loss", "the naive implementation runs on the CPU only");
  auto& cuda = static_cast<CudaBackend&>(backend(Device::CUDA));
  const bool grads = gl || gg;
  const size_t bytes = mi::cuda::workspace_bytes(impl, pb, e, grads);
  // Returned to the allocator's cache on exit; later work on the same stream is ordered after
  // the kernels, so the block cannot be reused while they still read it.
  auto workspace = cuda.allocator().allocate(bytes);
  auto run = impl == mi::Impl::fused ? mi::cuda::fused_async : mi::cuda::unfused_async;
  run(pb, e, static_cast<const float*>(local.raw()), static_cast<const float*>(global.raw()),
      gl ? static_cast<float*>(gl->raw()) : nullptr, gg ? static_cast<float*>(gg->raw()) : nullptr,
      1.0f, static_cast<float*>(loss.raw()), workspace.get(), bytes, cuda.stream(), {});
  cuda.op_done(impl == mi::Impl::fused ? "mi_loss (fused)" : "mi_loss (unfused)");
}

void mi_cuda_scores(const mi::Problem& pb, mi::Estimator e, const Tensor& scores, Tensor& loss, Tensor* ds) {
  check(scores.dtype() == DType::F32, "mi_loss_from_scores",
        "the CUDA kernels compute in float32, got " + scores.describe());
  auto& cuda = static_cast<CudaBackend&>(backend(Device::CUDA));
  const size_t bytes = mi::cuda::scores_workspace_bytes(pb, e, ds != nullptr);
  auto workspace = cuda.allocator().allocate(bytes);  // stream-ordered reuse, as in mi_cuda
  mi::cuda::scores_async(pb, e, static_cast<const float*>(scores.raw()), ds ? static_cast<float*>(ds->raw()) : nullptr,
                         1.0f, static_cast<float*>(loss.raw()), workspace.get(), bytes, cuda.stream());
  cuda.op_done("mi_loss_from_scores");
}

size_t mi_cuda_workspace_bytes(const mi::Problem& pb, mi::Estimator e, mi::Impl impl, bool with_grads) {
  check(impl != mi::Impl::naive, "mi_loss", "the naive implementation runs on the CPU only");
  return mi::cuda::workspace_bytes(impl, pb, e, with_grads);
}

}  // namespace imx::detail
