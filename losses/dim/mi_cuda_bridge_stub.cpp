// Built instead of mi_cuda_bridge.cpp when infomax has no CUDA build.
#include "losses/dim/mi_cuda_bridge.h"

namespace imx::detail {

void mi_cuda(const mi::Problem&, mi::Estimator, mi::Impl, const Tensor&, const Tensor&, Tensor&,
             Tensor*, Tensor*) {
  throw Error("mi_loss: infomax was built without CUDA, so CUDA tensors cannot be scored");
}

void mi_cuda_scores(const mi::Problem&, mi::Estimator, const Tensor&, Tensor&, Tensor*) {
  throw Error("mi_loss_from_scores: infomax was built without CUDA, so CUDA tensors cannot be scored");
}

size_t mi_cuda_workspace_bytes(const mi::Problem&, mi::Estimator, mi::Impl, bool) {
  throw Error("mi_loss: infomax was built without CUDA");
}

void mi_cuda_path(const mi::Problem&, mi::Estimator, MiCudaPath, MiCudaPrecision, const Tensor&, const Tensor&,
                  Tensor&, Tensor*, Tensor*) {
  throw Error("mi_loss: infomax was built without CUDA");
}

size_t mi_cuda_path_workspace_bytes(const mi::Problem&, mi::Estimator, MiCudaPath, bool) {
  throw Error("mi_loss: infomax was built without CUDA");
}

void mi_cuda_gemms(const mi::Problem&, MiCudaPrecision, const Tensor&, const Tensor&, Tensor&, Tensor&) {
  throw Error("mi_loss: infomax was built without CUDA");
}

}  // namespace imx::detail
