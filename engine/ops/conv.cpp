// 2-d convolution and max-pooling (NCHW).
#include "engine/ops/common.h"

namespace imx {

using namespace ops;

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t pad) {
  check_same_kind("conv2d", x, w);
  check_rank("conv2d", x, {4}, "input");
  check_rank("conv2d", w, {4}, "weight");
  check(stride >= 1 && pad >= 0, "conv2d", "stride must be >= 1 and padding >= 0, got stride " +
                                               std::to_string(stride) + ", padding " +
                                               std::to_string(pad));
  check(x.size(1) == w.size(1), "conv2d",
        "input " + shape_str(x.shape()) + " has " + std::to_string(x.size(1)) +
            " channels but weight " + shape_str(w.shape()) + " expects " +
            std::to_string(w.size(1)));
  ConvGeometry g{x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3),
                 stride,    pad,       0,         0};
  g.h_out = (g.h_in + 2 * pad - g.kh) / stride + 1;
  g.w_out = (g.w_in + 2 * pad - g.kw) / stride + 1;
  check(g.h_in + 2 * pad >= g.kh && g.w_in + 2 * pad >= g.kw, "conv2d",
        "kernel " + shape_str(w.shape()) + " larger than padded input " + shape_str(x.shape()));
  if (b.defined()) {
    check_same_kind("conv2d", x, b);
    check(b.dim() == 1 && b.size(0) == g.c_out, "conv2d",
          "bias " + shape_str(b.shape()) + " does not match weight " + shape_str(w.shape()));
  }
  Tensor y = empty_as(x, {g.n, g.c_out, g.h_out, g.w_out});
  backend_of(x).conv2d_forward(g, x, w, y);
  // The bias is added in place: a second full-size tensor would cost a pass over fresh memory.
  if (b.defined()) backend_of(y).binary(Binary::Add, y, reshape(b.detach(), {1, g.c_out, 1, 1}), y);
  // The rule keeps x only for the filter gradient and w only for the data gradient (the first
  // layer's images need no gradient, so its weights are not kept either).
  const bool need_gx = x.requires_grad(), need_gw = w.requires_grad();
  const bool need_gb = b.defined() && b.requires_grad();
  return record(y, "conv2d", {x, w, b},
                [xs = need_gw ? x.detach() : Tensor{}, ws = need_gx ? w.detach() : Tensor{}, need_gx, need_gw,
                 need_gb, x_shape = x.shape(), w_shape = w.shape(), g](const Tensor& gy) {
                  Tensor gx, gw, gb;
                  if (need_gx) {
                    gx = empty_as(gy, x_shape);
                    backend_of(gy).conv2d_backward_data(g, gy, ws, gx);
                  }
                  if (need_gw) {
                    gw = empty_as(gy, w_shape);
                    backend_of(gy).conv2d_backward_filter(g, xs, gy, gw);
                  }
                  if (need_gb) gb = reshape(sum_to(gy, {1, g.c_out, 1, 1}), {g.c_out});
                  return std::vector<Tensor>{gx, gw, gb};
                });
}

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t pad) {
  check_rank("max_pool2d", x, {4}, "input");
  check(kernel >= 1 && stride >= 1 && pad >= 0 && 2 * pad <= kernel, "max_pool2d",
        "need kernel >= 1, stride >= 1, 0 <= padding <= kernel/2; got kernel " +
            std::to_string(kernel) + ", stride " + std::to_string(stride) + ", padding " +
            std::to_string(pad));
  PoolGeometry g{x.size(0), x.size(1), x.size(2), x.size(3), kernel, stride, pad, 0, 0};
  check(g.h_in + 2 * pad >= kernel && g.w_in + 2 * pad >= kernel, "max_pool2d",
        "window " + std::to_string(kernel) + " larger than padded input " + shape_str(x.shape()));
  g.h_out = (g.h_in + 2 * pad - kernel) / stride + 1;
  g.w_out = (g.w_in + 2 * pad - kernel) / stride + 1;
  Tensor y = empty_as(x, {g.n, g.c, g.h_out, g.w_out});
  backend_of(x).maxpool2d_forward(g, x, y);
  return record(y, "max_pool2d", {x}, [xs = x.detach(), g](const Tensor& gy) {
    Tensor gx = empty_like(xs);
    backend_of(gy).maxpool2d_backward(g, xs, gy, gx);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace imx
