// The MI loss over a score matrix the critic produced itself (concat-and-convolve, the MLP
// global critic), as an autograd op: the estimators of losses/mi without the dot products.
#pragma once
#include <cstdint>

#include "engine/tensor.h"
#include "losses/mi/mi.h"

namespace imx {

// scores: [B*K, B*P], row i*K + k = global vector k of image i, column j*P + p = location p of
// image j; pairs with j == i are the positives (the layout of S = G L^T in mi_loss). Minimized
// form, as mi_loss. CPU float32/float64, CUDA float32 (no host synchronization). The forward
// pass computes dLoss/dS too when it will be needed; the backward only scales it.
Tensor mi_loss_from_scores(const Tensor& scores, int64_t B, int64_t K, mi::Estimator estimator);

}  // namespace imx
