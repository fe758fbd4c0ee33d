// Elementwise maps over contiguous arrays: fill, affine, the unary ops and their gradients.
// One thread per element in a capped grid-stride loop (memory bound, nothing to share).
#include <cmath>

#include "kernels/ops/common.cuh"
#include "kernels/ops/launchers.h"

namespace imx::IMX_KNS {

namespace {

// The CPU backend's formulas (engine/cpu/elementwise.cpp) in float32.
IMX_DEVICE float sigmoid_value(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}
IMX_DEVICE float softplus_value(float x) {  // log(1 + e^x) without overflow
  return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

IMX_DEVICE float unary_value(Unary op, float x) {
  switch (op) {
    case Unary::Relu: return x > 0.0f ? x : 0.0f;
    case Unary::Sigmoid: return sigmoid_value(x);
    case Unary::Softplus: return softplus_value(x);
    case Unary::Exp: return expf(x);
    case Unary::Log: return logf(x);
    case Unary::Neg: return -x;
    case Unary::Square: return x * x;
    case Unary::Sqrt: return sqrtf(x);
  }
  return x;
}

// d op(x)/dx from x and y = op(x).
IMX_DEVICE float unary_derivative(Unary op, float x, float y) {
  switch (op) {
    case Unary::Relu: return x > 0.0f ? 1.0f : 0.0f;
    case Unary::Sigmoid: return y * (1.0f - y);
    case Unary::Softplus: return sigmoid_value(x);
    case Unary::Exp: return y;
    case Unary::Log: return 1.0f / x;
    case Unary::Neg: return -1.0f;
    case Unary::Square: return 2.0f * x;
    case Unary::Sqrt: return 0.5f / y;
  }
  return 0.0f;
}

IMX_KERNEL void fill_kernel(float* out, int64_t n, float value) {
  for_each_item<ThreadUnit>(n, [&](int64_t i) { out[i] = value; });
}

IMX_KERNEL void affine_kernel(const float* x, float* y, int64_t n, float scale, float shift) {
  for_each_item<ThreadUnit>(n, [&](int64_t i) { y[i] = scale * x[i] + shift; });
}

IMX_KERNEL void unary_forward_kernel(Unary op, const float* x, float* y, int64_t n) {
  for_each_item<ThreadUnit>(n, [&](int64_t i) { y[i] = unary_value(op, x[i]); });
}

IMX_KERNEL void unary_backward_kernel(Unary op, const float* x, const float* y, const float* gy,
                                      float* gx, int64_t n) {
  for_each_item<ThreadUnit>(n, [&](int64_t i) { gx[i] = gy[i] * unary_derivative(op, x[i], y[i]); });
}

}  // namespace

void fill(float* out, int64_t n, float value, cudaStream_t stream) {
  if (n <= 0) return;
  IMX_LAUNCH(fill_kernel, blocks_for(n, kBlock), kBlock, 0, stream)(out, n, value);
}

void affine(const float* x, float* y, int64_t n, float scale, float shift, cudaStream_t stream) {
  if (n <= 0) return;
  IMX_LAUNCH(affine_kernel, blocks_for(n, kBlock), kBlock, 0, stream)(x, y, n, scale, shift);
}

void unary_forward(Unary op, const float* x, float* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  IMX_LAUNCH(unary_forward_kernel, blocks_for(n, kBlock), kBlock, 0, stream)(op, x, y, n);
}

void unary_backward(Unary op, const float* x, const float* y, const float* gy, float* gx,
                    int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  IMX_LAUNCH(unary_backward_kernel, blocks_for(n, kBlock), kBlock, 0, stream)(op, x, y, gy, gx, n);
}

}  // namespace imx::IMX_KNS
