// Differentiable ops. Each op lives in one file under engine/ops/ with its shape checks and its
// single gradient rule; the arithmetic is done by the tensor's backend (engine/backend.h).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace imx {

// Linear algebra.
// op(a) op(b) with op(a) [m,k], op(b) [k,n]; op transposes when its flag is set.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// y = x W^T + b, x [n, in], W [out, in], b [out] (optional).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = {});
// b + sum_i x_i w_i^T: linear layers on several inputs summed into one output (a residual
// shortcut beside a layer), each product accumulating into the output, with no sum pass.
Tensor linear_sum(const std::vector<Tensor>& xs, const std::vector<Tensor>& ws, const Tensor& b = {});

// Convolution and pooling (NCHW). conv bias is optional; stride and padding on both axes.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b = {}, int64_t stride = 1,
              int64_t pad = 0);
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t pad = 0);

// Normalization. batch_norm works on [N, C] or [N, C, H, W]; running statistics are updated in
// place in training mode (momentum as in PyTorch, unbiased running variance). relu: returns
// relu(batch_norm(x)), in training fused into the batch-norm kernels (one pass fewer each way).
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5,
                  bool relu = false);
// Layer-norm over channels at each position of [N, C] or [N, C, H, W].
Tensor layer_norm_channels(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                           double eps = 1e-5);

// Elementwise.
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor softplus(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor neg(const Tensor& x);
Tensor square(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor add(const Tensor& a, const Tensor& b);  // NumPy broadcasting
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double s);       // s * x
Tensor add_scalar(const Tensor& x, double c);  // x + c
// Inverted dropout from the Philox stream (seed, offset): identity when not training or p == 0.
Tensor dropout(const Tensor& x, double p, bool training, uint64_t seed, uint64_t offset);

// Shape.
Tensor reshape(const Tensor& x, const Shape& shape);  // one -1 allowed
Tensor flatten(const Tensor& x);                      // [N, ...] -> [N, prod(...)]
Tensor permute(const Tensor& x, const std::vector<int64_t>& order);
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);
Tensor slice(const Tensor& x, int64_t axis, int64_t begin, int64_t end);
// Repeats size-1 axes to the target shape (NumPy broadcasting rules).
Tensor broadcast_to(const Tensor& x, const Shape& shape);

// Reductions. Empty axes = all axes.
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
// Sums a broadcast gradient back down to shape (the inverse of broadcast_to).
Tensor sum_to(const Tensor& x, const Shape& shape);

// Classification.
Tensor log_softmax(const Tensor& x);  // over the last axis of [N, C]
Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& labels);  // mean

}  // namespace imx
