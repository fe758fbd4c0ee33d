// Fused optimizer steps: one pass over parameter, gradient and state per element, in place.
// The formulas are the CPU backend's (PyTorch's), evaluated in float32 instead of double.
#include <cmath>

#include "kernels/ops/common.cuh"
#include "kernels/ops/launchers.h"

namespace imx::IMX_KNS {

namespace {

struct AdamHyper {
  float lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2;
};

IMX_KERNEL void adam_kernel(float* param, const float* grad, float* m, float* v, int64_t n,
                            AdamHyper h) {
  for_each_item<ThreadUnit>(n, [&](int64_t i) {
    const float p = param[i];
    const float g = grad[i] + h.weight_decay * p;
    const float mi = h.beta1 * m[i] + (1.0f - h.beta1) * g;
    const float vi = h.beta2 * v[i] + (1.0f - h.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - h.lr * (mi / h.bias_correction1) / (sqrtf(vi / h.bias_correction2) + h.eps);
  });
}

IMX_KERNEL void sgd_kernel(float* param, const float* grad, float* buf, int64_t n, float lr,
                           float momentum, float weight_decay, bool first_step) {
  for_each_item<ThreadUnit>(n, [&](int64_t i) {
    const float p = param[i];
    const float g = grad[i] + weight_decay * p;
    const float b = (momentum == 0.0f || first_step) ? g : momentum * buf[i] + g;
    buf[i] = b;
    param[i] = p - lr * b;
  });
}

}  // namespace

void adam_step(float* param, const float* grad, float* m, float* v, int64_t n, float lr,
               float beta1, float beta2, float eps, float weight_decay, float bias_correction1,
               float bias_correction2, cudaStream_t stream) {
  if (n <= 0) return;
  const AdamHyper h{lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2};
  IMX_LAUNCH(adam_kernel, blocks_for(n, kBlock), kBlock, 0, stream)(param, grad, m, v, n, h);
}

void sgd_step(float* param, const float* grad, float* buf, int64_t n, float lr, float momentum,
              float weight_decay, bool first_step, cudaStream_t stream) {
  if (n <= 0) return;
  IMX_LAUNCH(sgd_kernel, blocks_for(n, kBlock), kBlock, 0, stream)(param, grad, buf, n, lr,
                                                                   momentum, weight_decay, first_step);
}

}  // namespace imx::IMX_KNS
