// The MI loss on CUDA tensors, through the fused kernels of losses/mi_cuda. Kept behind this
// plain header so the autograd op compiles the same with or without the CUDA build.
#pragma once
#include "engine/tensor.h"
#include "losses/mi/mi.h"

namespace imx::detail {

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
