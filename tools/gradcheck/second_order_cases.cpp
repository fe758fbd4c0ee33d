// The cases `dim-gradcheck --order 2` runs. Each forward takes a gradient with
// grad(..., create_graph=true) and returns it, so check() compares backward through the double
// graph against central differences of that gradient: a second-order check of every op whose
// rule is differentiable, and of the prior discriminator's gradient penalty.
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "tools/gradcheck/case_helpers.h"

namespace imx::gradcheck {

namespace {

// What the first gradient is taken of: <v, y> for a fixed random v, or <v, y^2> for ops that
// are linear in their inputs (the gradient of <v, y> would be a constant, with nothing left to
// differentiate; squaring makes the incoming gradient depend on the inputs, so the op's rule is
// differentiated with respect to it).
enum class Score { Linear, Squared };

// d score(f(xs)) / d xs with the graph kept, every gradient flattened into one vector.
Tensor first_gradient(const std::function<Tensor(const Inputs&)>& f, Score score, const Inputs& xs) {
  EnableGrad recording;  // check() evaluates its finite differences under NoGrad
  const Tensor y = f(xs);
  Generator gen(0xd1ff);
  const Tensor v = uniform(y.shape(), -1, 1, gen, y.dtype(), y.device());
  const Tensor s = sum(mul(v, score == Score::Squared ? square(y) : y));
  std::vector<Tensor> flat;
  for (const Tensor& g : grad({s}, xs, {}, true)) flat.push_back(reshape(g, {-1}));
  return concat(flat, 0);
}

void add_second_order(std::vector<Case>& cs, const std::string& op, const std::string& shape,
                      Score score, std::function<Inputs()> in,
                      std::function<Tensor(const Inputs&)> f) {
  add_case(cs, op, shape + (score == Score::Squared ? " <v,y^2>" : " <v,y>"), std::move(in),
           [f = std::move(f), score](const Inputs& xs) { return first_gradient(f, score, xs); });
}

// Nonlinear ops get both scores: <v, y> isolates op'', <v, y^2> adds the rule's dependence on
// the incoming gradient.
constexpr Score kBoth[] = {Score::Linear, Score::Squared};

void unary_cases(std::vector<Case>& cs) {
  struct U {
    const char* name;
    Tensor (*fn)(const Tensor&);
    double lo, hi;  // lo == hi: values away from zero (relu's kink)
    bool linear;
  };
  const U us[] = {{"relu", relu, 0, 0, true},           {"sigmoid", sigmoid, -4, 4, false},
                  {"softplus", softplus, -4, 4, false}, {"exp", imx::exp, -2, 2, false},
                  {"log", imx::log, 0.5, 3, false},     {"neg", neg, -1, 1, true},
                  {"square", square, -2, 2, false},     {"sqrt", imx::sqrt, 0.5, 3, false}};
  for (const auto& u : us)
    for (const Shape& s : {Shape{7}, Shape{3, 5, 2}})
      for (Score score : kBoth) {
        if (u.linear && score == Score::Linear) continue;
        add_second_order(cs, u.name, shapes({s}), score,
            [u, s] { return Inputs{u.lo == u.hi ? leaf_away_from_zero(s) : leaf(s, u.lo, u.hi)}; },
            [u](const Inputs& x) { return u.fn(x[0]); });
      }
}

void binary_cases(std::vector<Case>& cs) {
  struct B {
    const char* name;
    Tensor (*fn)(const Tensor&, const Tensor&);
    bool linear;
  };
  const B bs[] = {{"add", imx::add, true},
                  {"sub", imx::sub, true},
                  {"mul", imx::mul, false},
                  {"div", imx::div, false}};
  const std::pair<Shape, Shape> pairs[] = {{{3, 4}, {3, 4}}, {{4, 1, 3}, {5, 1}}, {{2, 3}, {3}}};
  for (const auto& b : bs)
    for (const auto& [sa, sb] : pairs)
      for (Score score : kBoth) {
        if (b.linear && score == Score::Linear) continue;
        add_second_order(cs, b.name, shapes({sa, sb}), score,
            [sa, sb] { return Inputs{leaf(sa), leaf(sb, 0.5, 2)}; },
            [b](const Inputs& x) { return b.fn(x[0], x[1]); });
      }
  add_second_order(cs, "scale", "[3, 5]", Score::Squared, [] { return Inputs{leaf({3, 5})}; },
      [](const Inputs& x) { return scale(x[0], -2.5); });
  add_second_order(cs, "add_scalar", "[4]", Score::Squared, [] { return Inputs{leaf({4})}; },
      [](const Inputs& x) { return add_scalar(x[0], 0.75); });
  add_second_order(cs, "dropout", "[6, 7] p=0.3", Score::Squared, [] { return Inputs{leaf({6, 7})}; },
      [](const Inputs& x) { return dropout(x[0], 0.3, true, 42, 0); });
}

void linalg_cases(std::vector<Case>& cs) {
  for (const auto& [ta, tb] : {std::pair{false, false}, {true, false}, {false, true}, {true, true}}) {
    const Shape a = ta ? Shape{5, 3} : Shape{3, 5}, b = tb ? Shape{4, 5} : Shape{5, 4};
    for (Score score : kBoth)
      add_second_order(cs, "matmul", shapes({a, b}) + (ta ? " a^T" : "") + (tb ? " b^T" : ""),
          score, [a, b] { return Inputs{leaf(a), leaf(b)}; },
          [ta, tb](const Inputs& x) { return matmul(x[0], x[1], ta, tb); });
  }
  for (Score score : kBoth) {
    add_second_order(cs, "linear", "x[5, 7] W[3, 7] b[3]", score,
        [] { return Inputs{leaf({5, 7}), leaf({3, 7}), leaf({3})}; },
        [](const Inputs& x) { return linear(x[0], x[1], x[2]); });
    add_second_order(cs, "linear", "x[2, 4] W[6, 4] no bias", score,
        [] { return Inputs{leaf({2, 4}), leaf({6, 4})}; },
        [](const Inputs& x) { return linear(x[0], x[1]); });
  }
}

void shape_cases(std::vector<Case>& cs) {
  // All linear: the squared score only.
  auto add = [&cs](const char* op, const char* shape, std::function<Inputs()> in,
                   std::function<Tensor(const Inputs&)> f) {
    add_second_order(cs, op, shape, Score::Squared, std::move(in), std::move(f));
  };
  add("reshape", "[2, 3, 4] -> [4, -1]", [] { return Inputs{leaf({2, 3, 4})}; },
      [](const Inputs& x) { return reshape(x[0], {4, -1}); });
  add("flatten", "[3, 2, 5]", [] { return Inputs{leaf({3, 2, 5})}; },
      [](const Inputs& x) { return flatten(x[0]); });
  add("permute", "[2, 3, 4] (2, 0, 1)", [] { return Inputs{leaf({2, 3, 4})}; },
      [](const Inputs& x) { return permute(x[0], {2, 0, 1}); });
  add("concat", "[2, 3] [2, 5] axis 1", [] { return Inputs{leaf({2, 3}), leaf({2, 5})}; },
      [](const Inputs& x) { return concat({x[0], x[1]}, 1); });
  add("concat", "[1, 3, 2] [2, 3, 2] axis 0", [] { return Inputs{leaf({1, 3, 2}), leaf({2, 3, 2})}; },
      [](const Inputs& x) { return concat({x[0], x[1], x[0]}, 0); });
  add("slice", "[4, 7] axis 1 [2, 5)", [] { return Inputs{leaf({4, 7})}; },
      [](const Inputs& x) { return slice(x[0], 1, 2, 5); });
  add("slice", "[4, 7] axis 0 [0, 3)", [] { return Inputs{leaf({4, 7})}; },
      [](const Inputs& x) { return slice(x[0], 0, 0, 3); });
  add("broadcast_to", "[3, 1] -> [2, 3, 4]", [] { return Inputs{leaf({3, 1})}; },
      [](const Inputs& x) { return broadcast_to(x[0], {2, 3, 4}); });
  add("sum", "[3, 4, 5] all", [] { return Inputs{leaf({3, 4, 5})}; },
      [](const Inputs& x) { return sum(x[0]); });
  add("sum", "[3, 4, 5] axes (0, 2)", [] { return Inputs{leaf({3, 4, 5})}; },
      [](const Inputs& x) { return sum(x[0], {0, 2}); });
  add("mean", "[3, 4, 5] axis 1 keepdim", [] { return Inputs{leaf({3, 4, 5})}; },
      [](const Inputs& x) { return mean(x[0], {1}, true); });
  add("sum_to", "[2, 3, 4] -> [3, 1]", [] { return Inputs{leaf({2, 3, 4})}; },
      [](const Inputs& x) { return sum_to(x[0], {3, 1}); });
}

// The prior discriminator's gradient penalty, as in the reference code:
// mean_n ||dD(z)/dz_n||^2 for a small ReLU MLP D built from raw ops, differentiated with respect
// to every weight, bias and z.
void penalty_case(std::vector<Case>& cs) {
  add_case(cs, "gradient_penalty", "MLP 5-7-3-1, z[4, 5]",
      [] {
        return Inputs{leaf({4, 5}),                  // z
                      leaf({7, 5}), leaf({7}),       // linear 5 -> 7
                      leaf({3, 7}), leaf({3}),       // linear 7 -> 3
                      leaf({1, 3}), leaf({1})};      // linear 3 -> 1
      },
      [](const Inputs& x) {
        EnableGrad recording;  // check() evaluates its finite differences under NoGrad
        const Tensor& z = x[0];
        Tensor d = linear(relu(linear(relu(linear(z, x[1], x[2])), x[3], x[4])), x[5], x[6]);
        Tensor gz = grad({sum(d)}, {z}, {}, true)[0];
        return mean(sum(square(gz), {1}));
      });
}

}  // namespace

std::vector<Case> second_order_cases() {
  std::vector<Case> cs;
  unary_cases(cs);
  binary_cases(cs);
  linalg_cases(cs);
  shape_cases(cs);
  penalty_case(cs);
  return cs;
}

}  // namespace imx::gradcheck
