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
  // The rule keeps b only for A's gradient and a only for B's (with their graphs: the rule is
  // differentiated again under create_graph).
  const bool need_ga = a.requires_grad(), need_gb = b.requires_grad();
  return record_differentiable(c, "matmul", {a, b},
                               [as = need_gb ? a : Tensor{}, bs = need_ga ? b : Tensor{}, need_ga, need_gb,
                                trans_a, trans_b](const Tensor& g) {
    // C = op(A) op(B): d op(A) = G op(B)^T and d op(B) = op(A)^T G, transposed back when the
    // operand itself was transposed.
    Tensor ga, gb;
    if (need_ga) ga = trans_a ? matmul(bs, g, trans_b, true) : matmul(g, bs, false, !trans_b);
    if (need_gb) gb = trans_b ? matmul(g, as, true, trans_a) : matmul(as, g, !trans_a, false);
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
  // x is kept only for the weight's gradient, w only for the input's.
  const bool need_gx = x.requires_grad(), need_gw = w.requires_grad();
  const bool need_gb = b.defined() && b.requires_grad();
  return record_differentiable(y, "linear", {x, w, b},
                               [xs = need_gw ? x : Tensor{}, ws = need_gx ? w : Tensor{}, need_gx, need_gw,
                                need_gb, b_shape = b.defined() ? b.shape() : Shape{}](const Tensor& g) {
    Tensor gx, gw, gb;
    if (need_gx) gx = matmul(g, ws);                // dX = dY W
    if (need_gw) gw = matmul(g, xs, true, false);   // dW = dY^T X
    if (need_gb) gb = sum_to(g, b_shape);
    return std::vector<Tensor>{gx, gw, gb};
  });
}

}  // namespace imx
