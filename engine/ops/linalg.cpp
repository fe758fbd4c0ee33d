// Matrix product and the linear layer.
#include "engine/ops/common.h"

namespace imx {

using namespace ops;

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_kind("matmul", a, b);
  check_rank("matmul", a, {2}, "left operand");
  check_rank("matmul", b, {2}, "right operand");
  check(a.size(1) == b.size(0), "matmul",
        "inner dimensions differ: " + shape_str(a.shape()) + " x " + shape_str(b.shape()));
  Tensor c = empty_as(a, {a.size(0), b.size(1)});
  backend_of(a).gemm(false, false, 1.0, a, b, 0.0, c);
  return record(c, "matmul", {a, b}, [a, b](const Tensor& g) {
    Tensor ga, gb;
    if (a.requires_grad()) {  // dA = dC B^T
      ga = empty_like(a);
      backend_of(g).gemm(false, true, 1.0, g, b, 0.0, ga);
    }
    if (b.requires_grad()) {  // dB = A^T dC
      gb = empty_like(b);
      backend_of(g).gemm(true, false, 1.0, a, g, 0.0, gb);
    }
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_same_kind("linear", x, w);
  check_rank("linear", x, {2}, "input");
  check_rank("linear", w, {2}, "weight");
  check(x.size(1) == w.size(1), "linear",
        "input " + shape_str(x.shape()) + " does not match weight " + shape_str(w.shape()) +
            " (expected input [N, " + std::to_string(w.size(1)) + "])");
  if (b.defined()) {
    check_same_kind("linear", x, b);
    check(b.dim() == 1 && b.size(0) == w.size(0), "linear",
          "bias " + shape_str(b.shape()) + " does not match weight " + shape_str(w.shape()));
  }
  Tensor y = empty_as(x, {x.size(0), w.size(0)});
  if (b.defined()) backend_of(x).gather_strided(b, 0, {0, 1}, y);  // rows start as the bias
  backend_of(x).gemm(false, true, 1.0, x, w, b.defined() ? 1.0 : 0.0, y);
  return record(y, "linear", {x, w, b}, [x, w, b](const Tensor& g) {
    Tensor gx, gw, gb;
    if (x.requires_grad()) {  // dX = dY W
      gx = empty_like(x);
      backend_of(g).gemm(false, false, 1.0, g, w, 0.0, gx);
    }
    if (w.requires_grad()) {  // dW = dY^T X
      gw = empty_like(w);
      backend_of(g).gemm(true, false, 1.0, g, x, 0.0, gw);
    }
    if (b.defined() && b.requires_grad()) gb = sum_to(g, b.shape());
    return std::vector<Tensor>{gx, gw, gb};
  });
}

}  // namespace imx
