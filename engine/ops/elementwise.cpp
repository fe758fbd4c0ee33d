// Elementwise ops: unary maps, broadcasting arithmetic, scalar affine maps, dropout.
#include "engine/ops/common.h"

namespace imx {

using namespace ops;

namespace {

Tensor unary_op(const char* name, Unary kind, const Tensor& x) {
  check(x.defined(), name, "undefined input");
  Tensor y = empty_like(x);
  backend_of(x).unary(kind, x, y);
  // Capture the output's data, never the output itself: its node would own itself.
  return record(y, name, {x}, [x, yd = y.detach(), kind](const Tensor& gy) {
    Tensor gx = empty_like(x);
    backend_of(x).unary_backward(kind, x, yd, gy, gx);
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
  return record(out, "add", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("sub", Binary::Sub, a, b);
  return record(out, "sub", {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("mul", Binary::Mul, a, b);
  return record(out, "mul", {a, b}, [a, b](const Tensor& g) {
    return std::vector<Tensor>{a.requires_grad() ? sum_to(mul(g, b.detach()), a.shape()) : Tensor{},
                               b.requires_grad() ? sum_to(mul(g, a.detach()), b.shape()) : Tensor{}};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("div", Binary::Div, a, b);
  return record(out, "div", {a, b}, [a, b, q = out.detach()](const Tensor& g) {
    // d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b
    Tensor ga = a.requires_grad() ? sum_to(div(g, b.detach()), a.shape()) : Tensor{};
    Tensor gb = b.requires_grad()
                    ? sum_to(neg(div(mul(g, q), b.detach())), b.shape())
                    : Tensor{};
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor scale(const Tensor& x, double s) {
  Tensor y = empty_like(x);
  backend_of(x).affine(x, s, 0.0, y);
  return record(y, "scale", {x}, [s](const Tensor& g) { return std::vector<Tensor>{scale(g, s)}; });
}

Tensor add_scalar(const Tensor& x, double c) {
  Tensor y = empty_like(x);
  backend_of(x).affine(x, 1.0, c, y);
  return record(y, "add_scalar", {x}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor dropout(const Tensor& x, double p, bool training, uint64_t seed, uint64_t offset) {
  check(p >= 0 && p < 1, "dropout", "p must be in [0, 1), got " + std::to_string(p));
  if (!training || p == 0) return x;
  Tensor mask = empty_like(x);
  backend_of(x).dropout_mask(seed, offset, p, mask);
  Tensor y = empty_like(x);
  backend_of(x).binary(Binary::Mul, x, mask, y);
  return record(y, "dropout", {x}, [mask](const Tensor& g) {
    Tensor gx = empty_like(g);
    backend_of(g).binary(Binary::Mul, g, mask, gx);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace imx
