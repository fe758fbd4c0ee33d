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

Tensor linear_sum(const std::vector<Tensor>& xs, const std::vector<Tensor>& ws, const Tensor& b) {
  check(!xs.empty() && xs.size() == ws.size(), "linear",
        "needs as many weights as inputs, got " + std::to_string(xs.size()) + " inputs and " +
            std::to_string(ws.size()) + " weights");
  const Tensor& w0 = ws[0];
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor &x = xs[i], &w = ws[i];
    check_same_kind("linear", x, w);
    check_rank("linear", x, {2}, "input");
    check_rank("linear", w, {2}, "weight");
    check(x.size(1) == w.size(1), "linear",
          "input " + shape_str(x.shape()) + " does not match weight " + shape_str(w.shape()) +
              " (expected input [N, " + std::to_string(w.size(1)) + "])");
    check(x.size(0) == xs[0].size(0) && w.size(0) == w0.size(0), "linear",
          "summed terms differ: input " + shape_str(x.shape()) + " and weight " + shape_str(w.shape()) +
              " beside input " + shape_str(xs[0].shape()) + " and weight " + shape_str(w0.shape()));
  }
  if (b.defined()) {
    check_same_kind("linear", xs[0], b);
    check(b.dim() == 1 && b.size(0) == w0.size(0), "linear",
          "bias " + shape_str(b.shape()) + " does not match weight " + shape_str(w0.shape()));
  }
  Tensor y = empty_as(xs[0], {xs[0].size(0), w0.size(0)});
  if (b.defined()) backend_of(y).gather_strided(b, 0, {0, 1}, y);  // rows start as the bias
  for (size_t i = 0; i < xs.size(); ++i)  // each product accumulates onto the bias and the terms before it
    backend_of(y).gemm(false, true, 1.0, xs[i], ws[i], b.defined() || i > 0 ? 1.0 : 0.0, y);
  // Inputs in the rule's order x_0, w_0, x_1, w_1, ..., b. Each x is kept only for its weight's
  // gradient, each w only for its input's.
  std::vector<Tensor> inputs, kept;
  std::vector<char> need_gx, need_gw;
  for (size_t i = 0; i < xs.size(); ++i) {
    inputs.push_back(xs[i]);
    inputs.push_back(ws[i]);
    need_gx.push_back(xs[i].requires_grad());
    need_gw.push_back(ws[i].requires_grad());
    kept.push_back(need_gw.back() ? xs[i] : Tensor{});
    kept.push_back(need_gx.back() ? ws[i] : Tensor{});
  }
  inputs.push_back(b);
  const bool need_gb = b.defined() && b.requires_grad();
  return record_differentiable(y, "linear", inputs,
                               [kept, need_gx, need_gw, need_gb, b_shape = b.defined() ? b.shape() : Shape{}](
                                   const Tensor& g) {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < need_gx.size(); ++i) {
      grads.push_back(need_gx[i] ? matmul(g, kept[2 * i + 1]) : Tensor{});               // dX = dY W
      grads.push_back(need_gw[i] ? matmul(g, kept[2 * i], true, false) : Tensor{});      // dW = dY^T X
    }
    grads.push_back(need_gb ? sum_to(g, b_shape) : Tensor{});
    return grads;
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) { return linear_sum({x}, {w}, b); }

}  // namespace imx
