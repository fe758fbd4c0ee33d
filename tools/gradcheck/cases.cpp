// The cases dim-gradcheck runs: every engine op, at several shapes including odd ones. A new op
// must be added here.
#include <cmath>

#include "engine/ops.h"
#include "tools/gradcheck/case_helpers.h"

namespace imx::gradcheck {

namespace {

void unary_cases(std::vector<Case>& cs) {
  struct U {
    const char* name;
    Tensor (*fn)(const Tensor&);
    double lo, hi;
  };
  const U us[] = {{"relu", relu, 0, 0},       {"sigmoid", sigmoid, -4, 4},
                  {"softplus", softplus, -4, 4}, {"exp", imx::exp, -2, 2},
                  {"log", imx::log, 0.5, 3},   {"neg", neg, -1, 1},
                  {"square", square, -2, 2},   {"sqrt", imx::sqrt, 0.5, 3}};
  for (const auto& u : us)
    for (const Shape& s : {Shape{7}, Shape{3, 5, 2}}) {
      add_case(cs, u.name, shapes({s}),
          [u, s] { return Inputs{u.lo == u.hi ? leaf_away_from_zero(s) : leaf(s, u.lo, u.hi)}; },
          [u](const Inputs& x) { return u.fn(x[0]); });
    }
}

void binary_cases(std::vector<Case>& cs) {
  struct B {
    const char* name;
    Tensor (*fn)(const Tensor&, const Tensor&);
  };
  const B bs[] = {{"add", imx::add}, {"sub", imx::sub}, {"mul", imx::mul}, {"div", imx::div}};
  const std::pair<Shape, Shape> pairs[] = {{{3, 4}, {3, 4}}, {{4, 1, 3}, {5, 1}}, {{2, 3}, {3}}};
  for (const auto& b : bs)
    for (const auto& [sa, sb] : pairs) {
      add_case(cs, b.name, shapes({sa, sb}),
          [sa, sb] { return Inputs{leaf(sa), leaf(sb, 0.5, 2)}; },
          [b](const Inputs& x) { return b.fn(x[0], x[1]); });
    }
  add_case(cs, "scale", "[3, 5]", [] { return Inputs{leaf({3, 5})}; },
      [](const Inputs& x) { return scale(x[0], -2.5); });
  add_case(cs, "add_scalar", "[4]", [] { return Inputs{leaf({4})}; },
      [](const Inputs& x) { return add_scalar(x[0], 0.75); });
  add_case(cs, "dropout", "[6, 7] p=0.3", [] { return Inputs{leaf({6, 7})}; },
      [](const Inputs& x) { return dropout(x[0], 0.3, true, 42, 0); });
}

void linalg_cases(std::vector<Case>& cs) {
  for (const auto& [a, b] : {std::pair<Shape, Shape>{{3, 5}, {5, 4}}, {{1, 7}, {7, 1}}})
    add_case(cs, "matmul", shapes({a, b}), [a, b] { return Inputs{leaf(a), leaf(b)}; },
        [](const Inputs& x) { return matmul(x[0], x[1]); });
  // Transposed operands: a [k,m] for op(a) = a^T, b [n,k] for op(b) = b^T.
  for (const auto& [ta, tb] : {std::pair{true, false}, {false, true}, {true, true}}) {
    const Shape a = ta ? Shape{5, 3} : Shape{3, 5}, b = tb ? Shape{4, 5} : Shape{5, 4};
    add_case(cs, "matmul", shapes({a, b}) + (ta ? " a^T" : "") + (tb ? " b^T" : ""),
        [a, b] { return Inputs{leaf(a), leaf(b)}; },
        [ta, tb](const Inputs& x) { return matmul(x[0], x[1], ta, tb); });
  }
  add_case(cs, "linear", "x[5, 7] W[3, 7] b[3]",
      [] { return Inputs{leaf({5, 7}), leaf({3, 7}), leaf({3})}; },
      [](const Inputs& x) { return linear(x[0], x[1], x[2]); });
  add_case(cs, "linear", "x[2, 4] W[6, 4] no bias", [] { return Inputs{leaf({2, 4}), leaf({6, 4})}; },
      [](const Inputs& x) { return linear(x[0], x[1]); });
  add_case(cs, "linear_sum", "x[5, 7] W[3, 7] + z[5, 4] V[3, 4] + b[3]",
      [] { return Inputs{leaf({5, 7}), leaf({3, 7}), leaf({5, 4}), leaf({3, 4}), leaf({3})}; },
      [](const Inputs& x) { return linear_sum({x[0], x[2]}, {x[1], x[3]}, x[4]); });
}

void conv_cases(std::vector<Case>& cs) {
  struct C {
    Shape x, w;
    int64_t stride, pad;
    bool bias;
  };
  const C convs[] = {{{2, 3, 7, 6}, {4, 3, 3, 3}, 1, 1, true},
                     {{2, 2, 9, 9}, {3, 2, 4, 4}, 2, 1, false},   // DCGAN's k4 s2 p1
                     {{1, 1, 11, 11}, {2, 1, 5, 5}, 2, 2, true},  // the 28x28 encoder's k5 s2 p2
                     {{2, 5, 3, 3}, {4, 5, 1, 1}, 1, 0, true}};   // 1x1 conv (critics)
  for (const auto& c : convs) {
    add_case(cs, "conv2d",
        shapes({c.x, c.w}) + " s" + std::to_string(c.stride) + " p" + std::to_string(c.pad) +
            (c.bias ? " +bias" : ""),
        [c] {
          Inputs in{leaf(c.x), leaf(c.w)};
          if (c.bias) in.push_back(leaf({c.w[0]}));
          return in;
        },
        [c](const Inputs& x) {
          return conv2d(x[0], x[1], x.size() > 2 ? x[2] : Tensor{}, c.stride, c.pad);
        });
  }
  add_case(cs, "max_pool2d", "[2, 3, 7, 7] k3 s2", [] { return Inputs{leaf_away_from_zero({2, 3, 7, 7})}; },
      [](const Inputs& x) { return max_pool2d(x[0], 3, 2); });
  add_case(cs, "max_pool2d", "[1, 2, 6, 5] k2 s2 p1",
      [] { return Inputs{leaf_away_from_zero({1, 2, 6, 5})}; },
      [](const Inputs& x) { return max_pool2d(x[0], 2, 2, 1); });
}

void norm_cases(std::vector<Case>& cs) {
  for (const Shape& s : {Shape{6, 5}, Shape{3, 4, 5, 3}}) {
    const int64_t c = s[1];
    add_case(cs, "batch_norm", shapes({s}) + " train",
        [s, c] { return Inputs{leaf(s), leaf({c}, 0.5, 1.5), leaf({c})}; },
        [c](const Inputs& x) {
          // Running statistics follow the input's dtype and device (the CUDA tests reuse cases).
          Tensor rm = Tensor::zeros({c}, x[0].dtype(), x[0].device());
          Tensor rv = Tensor::full({c}, 1.0, x[0].dtype(), x[0].device());
          return batch_norm(x[0], x[1], x[2], rm, rv, true);
        });
    add_case(cs, "batch_norm", shapes({s}) + " train, fused relu",
        [s, c] { return Inputs{leaf(s), leaf({c}, 0.5, 1.5), leaf({c})}; },
        [c](const Inputs& x) {
          Tensor rm = Tensor::zeros({c}, x[0].dtype(), x[0].device());
          Tensor rv = Tensor::full({c}, 1.0, x[0].dtype(), x[0].device());
          return batch_norm(x[0], x[1], x[2], rm, rv, true, 0.1, 1e-5, /*relu=*/true);
        });
    add_case(cs, "batch_norm", shapes({s}) + " eval",
        [s, c] { return Inputs{leaf(s), leaf({c}, 0.5, 1.5), leaf({c})}; },
        [c](const Inputs& x) {
          Tensor rm = Tensor::full({c}, 0.3, x[0].dtype(), x[0].device());
          Tensor rv = Tensor::full({c}, 2.0, x[0].dtype(), x[0].device());
          return batch_norm(x[0], x[1], x[2], rm, rv, false);
        });
    add_case(cs, "layer_norm_channels", shapes({s}),
        [s, c] { return Inputs{leaf(s), leaf({c}, 0.5, 1.5), leaf({c})}; },
        [](const Inputs& x) { return layer_norm_channels(x[0], x[1], x[2]); });
  }
}

void shape_cases(std::vector<Case>& cs) {
  add_case(cs, "reshape", "[2, 3, 4] -> [4, -1]", [] { return Inputs{leaf({2, 3, 4})}; },
      [](const Inputs& x) { return mul(reshape(x[0], {4, -1}), reshape(x[0], {4, 6})); });
  add_case(cs, "flatten", "[3, 2, 5]", [] { return Inputs{leaf({3, 2, 5})}; },
      [](const Inputs& x) { return flatten(x[0]); });
  add_case(cs, "permute", "[2, 3, 4] (2, 0, 1)", [] { return Inputs{leaf({2, 3, 4})}; },
      [](const Inputs& x) { return permute(x[0], {2, 0, 1}); });
  add_case(cs, "concat", "[2, 3] [2, 5] axis 1", [] { return Inputs{leaf({2, 3}), leaf({2, 5})}; },
      [](const Inputs& x) { return concat({x[0], x[1]}, 1); });
  add_case(cs, "concat", "[1, 3, 2] [2, 3, 2] axis 0", [] { return Inputs{leaf({1, 3, 2}), leaf({2, 3, 2})}; },
      [](const Inputs& x) { return concat({x[0], x[1], x[0]}, 0); });
  add_case(cs, "slice", "[4, 7] axis 1 [2, 5)", [] { return Inputs{leaf({4, 7})}; },
      [](const Inputs& x) { return slice(x[0], 1, 2, 5); });
  add_case(cs, "broadcast_to", "[3, 1] -> [2, 3, 4]", [] { return Inputs{leaf({3, 1})}; },
      [](const Inputs& x) { return broadcast_to(x[0], {2, 3, 4}); });
  add_case(cs, "sum", "[3, 4, 5] all", [] { return Inputs{leaf({3, 4, 5})}; },
      [](const Inputs& x) { return sum(x[0]); });
  add_case(cs, "sum", "[3, 4, 5] axes (0, 2)", [] { return Inputs{leaf({3, 4, 5})}; },
      [](const Inputs& x) { return sum(x[0], {0, 2}); });
  add_case(cs, "mean", "[3, 4, 5] axis 1 keepdim", [] { return Inputs{leaf({3, 4, 5})}; },
      [](const Inputs& x) { return mean(x[0], {1}, true); });
  add_case(cs, "sum_to", "[2, 3, 4] -> [3, 1]", [] { return Inputs{leaf({2, 3, 4})}; },
      [](const Inputs& x) { return sum_to(x[0], {3, 1}); });
}

void classify_cases(std::vector<Case>& cs) {
  add_case(cs, "log_softmax", "[4, 7]", [] { return Inputs{leaf({4, 7}, -3, 3)}; },
      [](const Inputs& x) { return log_softmax(x[0]); });
  add_case(cs, "cross_entropy", "[5, 3]", [] { return Inputs{leaf({5, 3}, -3, 3)}; },
      [](const Inputs& x) { return cross_entropy(x[0], {0, 2, 1, 1, 0}); });
}

}  // namespace

std::vector<Case> engine_cases() {
  std::vector<Case> cs;
  unary_cases(cs);
  binary_cases(cs);
  linalg_cases(cs);
  conv_cases(cs);
  norm_cases(cs);
  shape_cases(cs);
  classify_cases(cs);
  return cs;
}

}  // namespace imx::gradcheck
