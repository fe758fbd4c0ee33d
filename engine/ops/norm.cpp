// Batch-norm and channel layer-norm.
#include <cmath>

#include "engine/ops/common.h"

namespace imx {

using namespace ops;

namespace {

// [N, C] or [N, C, H, W] viewed as [outer, C, inner].
NormGeometry channel_view(const Tensor& x) {
  return NormGeometry{x.size(0), x.size(1), x.dim() == 4 ? x.size(2) * x.size(3) : 1};
}

void check_channel_param(const char* op, const Tensor& x, const Tensor& p, const char* what) {
  check_same_kind(op, x, p);
  check(p.dim() == 1 && p.size(0) == x.size(1), op,
        std::string(what) + " " + shape_str(p.shape()) + " does not match " +
            std::to_string(x.size(1)) + " channels of input " + shape_str(x.shape()));
}

// [C] -> a shape that broadcasts along x's channel axis.
Shape channel_broadcast(const Tensor& x) {
  Shape s(x.dim(), 1);
  s[1] = x.size(1);
  return s;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, double momentum, double eps, bool relu) {
  check_rank("batch_norm", x, {2, 4}, "input");
  check_channel_param("batch_norm", x, gamma, "weight");
  check_channel_param("batch_norm", x, beta, "bias");
  check_channel_param("batch_norm", x, running_mean, "running_mean");
  check_channel_param("batch_norm", x, running_var, "running_var");
  if (!training) {
    // Fixed statistics: an affine map per channel, differentiated by the ops it is made of.
    const Shape cs = channel_broadcast(x);
    Tensor inv = reshape(div(gamma, sqrt(add_scalar(running_var.detach(), eps))), cs);
    Tensor shift = sub(reshape(beta, cs), mul(reshape(running_mean.detach(), cs), inv));
    const Tensor y = add(mul(x, inv), shift);
    return relu ? imx::relu(y) : y;
  }
  const NormGeometry g = channel_view(x);
  check(g.outer * g.inner > 1, "batch_norm",
        "training needs more than one value per channel, got input " + shape_str(x.shape()));
  Tensor y = empty_like(x);
  Tensor mean = empty_like(gamma), invstd = empty_like(gamma);
  backend_of(x).batchnorm_train(g, x, gamma, beta, eps, momentum, running_mean, running_var, y,
                                mean, invstd, relu);
  // With the ReLU fused the rule keeps the output's data (never the output itself: its node
  // would own itself), whose zeros mask the gradient.
  return record(y, relu ? "batch_norm_relu" : "batch_norm", {x, gamma, beta},
                [x, gamma, mean, invstd, g, eps, yd = relu ? y.detach() : Tensor{}](const Tensor& gy) {
                  Tensor gx = empty_like(x), gg = empty_like(gamma), gb = empty_like(gamma);
                  backend_of(gy).batchnorm_backward(g, x, gamma, mean, invstd, eps, yd, gy, gx, gg, gb);
                  return std::vector<Tensor>{gx, gg, gb};
                });
}

Tensor layer_norm_channels(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  check_rank("layer_norm_channels", x, {2, 4}, "input");
  check_channel_param("layer_norm_channels", x, gamma, "weight");
  check_channel_param("layer_norm_channels", x, beta, "bias");
  const NormGeometry g = channel_view(x);
  Tensor y = empty_like(x);
  Tensor mean = empty_as(x, {g.outer * g.inner}), invstd = empty_as(x, {g.outer * g.inner});
  backend_of(x).layernorm_forward(g, x, gamma, beta, eps, y, mean, invstd);
  return record(y, "layer_norm_channels", {x, gamma, beta},
                [x, gamma, mean, invstd, g](const Tensor& gy) {
                  Tensor gx = empty_like(x), gg = empty_like(gamma), gb = empty_like(gamma);
                  backend_of(gy).layernorm_backward(g, x, gamma, mean, invstd, gy, gx, gg, gb);
                  return std::vector<Tensor>{gx, gg, gb};
                });
}

}  // namespace imx
