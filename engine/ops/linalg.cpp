// Matrix product and the linear layer. Both rules are matmuls: under NoGrad each is one direct
// gemm, as fast as calling the backend, and with recording on they are differentiable.
#include "engine/ops/common.h"

namespace imx {

using namespace ops;

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_same_kind("matmul", a, b);
  check_rank("matmul", a, {2}, "left operand");
  check_rank("matmul", b, {2}, "right operand");
  const int64_t m = a.size(trans_a ? 1 : 0), k = a.size(trans_a ? 0 : 1);
  const int64_t kb = b.size(trans_b ? 1 : 0), n = b.size(trans_b ? 0 : 1);
  check(k == kb, "matmul",
        "inner dimensions differ: " + shape_str(a.shape()) + (trans_a ? "^T" : "") + " x " +
            shape_str(b.shape()) + (trans_b ? "^T" : ""));
  Tensor c = empty_as(a, {m, n});
  backend_of(a).gemm(trans_a, trans_b, 1.0, a, b, 0.0, c);
  return record_differentiable(c, "matmul", {a, b}, [a, b, trans_a, trans_b](const Tensor& g) {
    // C = op(A) op(B): d op(A) = G op(B)^T and d op(B) = op(A)^T G, transposed back when the
    // operand itself was transposed.
    Tensor ga, gb;
    if (a.requires_grad())
      ga = trans_a ? matmul(b, g, trans_b, true) : matmul(g, b, false, !trans_b);
    if (b.requires_grad())
      gb = trans_b ? matmul(g, a, true, trans_a) : matmul(a, g, !trans_a, false);
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
  return record_differentiable(y, "linear", {x, w, b}, [x, w, b](const Tensor& g) {
    Tensor gx, gw, gb;
    if (x.requires_grad()) gx = matmul(g, w);                // dX = dY W
    if (w.requires_grad()) gw = matmul(g, x, true, false);   // dW = dY^T X
    if (b.defined() && b.requires_grad()) gb = sum_to(g, b.shape());
    return std::vector<Tensor>{gx, gw, gb};
  });
}

}  // namespace imx
