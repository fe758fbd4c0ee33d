// Elementwise ops: unary maps, broadcasting arithmetic, scalar affine maps, dropout.
#include "engine/ops/common.h"

namespace imx {

using namespace ops;

namespace {

// d op(x)/dx times g, as recorded ops, so that the gradient can be differentiated again.
// Values the fused kernel reads from the output are recomputed from x: a rule must never
// capture its node's output with its graph (the node would own itself).
Tensor unary_grad_graph(Unary kind, const Tensor& x, const Tensor& yd, const Tensor& g) {
  switch (kind) {
    case Unary::Relu: {  // the mask is a constant: relu'' = 0; y > 0 exactly where x > 0
      const Tensor ones = Tensor::full(yd.shape(), 1.0, yd.dtype(), yd.device());
      Tensor mask = empty_like(yd);
      backend_of(yd).unary_backward(kind, yd, yd, ones, mask);
      return mul(g, mask);
    }
    case Unary::Sigmoid: {
      Tensor s = sigmoid(x);
      return mul(g, sub(s, square(s)));  // s (1 - s)
    }
    case Unary::Softplus: return mul(g, sigmoid(x));
    case Unary::Exp: return mul(g, exp(x));
    case Unary::Log: return div(g, x);
    case Unary::Neg: return neg(g);
    case Unary::Square: return mul(g, scale(x, 2));
    case Unary::Sqrt: return div(g, scale(sqrt(x), 2));
  }
  fail("unary", "unknown op");
}

Tensor unary_op(const char* name, Unary kind, const Tensor& x) {
  check(x.defined(), name, "undefined input");
  Tensor y = empty_like(x);
  backend_of(x).unary(kind, x, y);
  // Capture the output's data, never the output itself: its node would own itself. relu needs
  // only the output (its derivative is y > 0, a constant), neg nothing; the others keep x for
  // the second-order form.
  const bool keep_x = kind != Unary::Relu && kind != Unary::Neg;
  const bool keep_y = kind != Unary::Neg;
  return record_differentiable(y, name, {x}, [xs = keep_x ? x : Tensor{}, yd = keep_y ? y.detach() : Tensor{},
                                              kind](const Tensor& gy) {
    // One rule, two evaluations: recording on means grad(create_graph=true), which needs the
    // derivative as recorded ops; otherwise (every training step) the fused kernel is faster.
    if (grad_enabled()) return std::vector<Tensor>{unary_grad_graph(kind, xs, yd, gy)};
    if (kind == Unary::Neg) return std::vector<Tensor>{neg(gy)};
    const Tensor& xv = xs.defined() ? xs : yd;  // relu: y > 0 where x > 0
    Tensor gx = empty_like(gy);
    backend_of(gy).unary_backward(kind, xv, yd, gy, gx);
    return std::vector<Tensor>{gx};
  });
}

Tensor binary_forward(const char* name, Binary kind, const Tensor& a, const Tensor& b) {
  check_same_kind(name, a, b);
  Tensor out = empty_as(a, broadcast_shapes(name, a.shape(), b.shape()));
  backend_of(a).binary(kind, a, b, out);
  return out;
}

}  // namespace

Tensor relu(const Tensor& x) { return unary_op("relu", Unary::Relu, x); }
Tensor sigmoid(const Tensor& x) { return unary_op("sigmoid", Unary::Sigmoid, x); }
Tensor softplus(const Tensor& x) { return unary_op("softplus", Unary::Softplus, x); }
Tensor exp(const Tensor& x) { return unary_op("exp", Unary::Exp, x); }
Tensor log(const Tensor& x) { return unary_op("log", Unary::Log, x); }
Tensor neg(const Tensor& x) { return unary_op("neg", Unary::Neg, x); }
Tensor square(const Tensor& x) { return unary_op("square", Unary::Square, x); }
Tensor sqrt(const Tensor& x) { return unary_op("sqrt", Unary::Sqrt, x); }

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("add", Binary::Add, a, b);
  auto rule = [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
  };
  return record_differentiable(out, "add", {a, b}, rule);
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("sub", Binary::Sub, a, b);
  auto rule = [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
  };
  return record_differentiable(out, "sub", {a, b}, rule);
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("mul", Binary::Mul, a, b);
  // a is kept only for b's gradient and b only for a's.
  const bool need_ga = a.requires_grad(), need_gb = b.requires_grad();
  return record_differentiable(out, "mul", {a, b},
                               [as = need_gb ? a : Tensor{}, bs = need_ga ? b : Tensor{}, need_ga, need_gb,
                                sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{need_ga ? sum_to(mul(g, bs), sa) : Tensor{},
                               need_gb ? sum_to(mul(g, as), sb) : Tensor{}};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("div", Binary::Div, a, b);
  return record_differentiable(out, "div", {a, b}, [a, b, q = out.detach()](const Tensor& g) {
    // d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b. The saved quotient q is a constant, so with
    // recording on (create_graph) a/b is recomputed as a function of a and b.
    Tensor ga = a.requires_grad() ? sum_to(div(g, b), a.shape()) : Tensor{};
    Tensor gb = b.requires_grad()
                    ? sum_to(neg(div(mul(g, grad_enabled() ? div(a, b) : q), b)), b.shape())
                    : Tensor{};
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor scale(const Tensor& x, double s) {
  Tensor y = empty_like(x);
  backend_of(x).affine(x, s, 0.0, y);
  return record_differentiable(y, "scale", {x},
                               [s](const Tensor& g) { return std::vector<Tensor>{scale(g, s)}; });
}

Tensor add_scalar(const Tensor& x, double c) {
  Tensor y = empty_like(x);
  backend_of(x).affine(x, 1.0, c, y);
  return record_differentiable(y, "add_scalar", {x},
                               [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor dropout(const Tensor& x, double p, bool training, uint64_t seed, uint64_t offset) {
  check(p >= 0 && p < 1, "dropout", "p must be in [0, 1), got " + std::to_string(p));
  if (!training || p == 0) return x;
  Tensor mask = empty_like(x);
  backend_of(x).dropout_mask(seed, offset, p, mask);
  Tensor y = empty_like(x);
  backend_of(x).binary(Binary::Mul, x, mask, y);
  return record_differentiable(y, "dropout", {x}, [mask](const Tensor& g) {
    return std::vector<Tensor>{mul(g, mask)};  // the mask is a constant
  });
}

}  // namespace imx
