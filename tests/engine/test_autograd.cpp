// The autograd engine itself: accumulation, shared subexpressions, no_grad, detach, and that
// the gradient checker can fail.
#include "engine/autograd.h"
#include "engine/ops.h"
#include "helpers.h"
#include "tools/gradcheck/gradcheck.h"

using namespace imx;

TEST_CASE("a tensor used twice gets both gradients", "[autograd]") {
  Tensor x = Tensor::from({1, 2, 3}, {3}, DType::F64).set_requires_grad();
  sum(mul(x, x)).backward();  // d/dx sum x^2 = 2x
  CHECK(x.grad().to_vector() == std::vector<double>{2, 4, 6});
}

TEST_CASE("gradients accumulate across backward calls until zeroed", "[autograd]") {
  Tensor x = Tensor::from({1, -1}, {2}, DType::F64).set_requires_grad();
  sum(scale(x, 3)).backward();
  sum(scale(x, 3)).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{6, 6});
  x.zero_grad();
  CHECK(!x.grad().defined());
}

TEST_CASE("NoGrad records nothing; detach cuts the graph", "[autograd]") {
  Tensor x = Tensor::from({1, 2}, {2}, DType::F64).set_requires_grad();
  {
    NoGrad guard;
    Tensor y = mul(x, x);
    CHECK(!y.requires_grad());
    CHECK(!y.grad_fn());
  }
  Tensor y = add(x.detach(), x);
  sum(y).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{1, 1});
  CHECK_THROWS_WITH(sum(x.detach()).backward(), Catch::Contains("does not require grad"));
}

TEST_CASE("the gradient checker catches a wrong gradient rule", "[autograd]") {
  // An op whose rule is off by a factor 2: y = 3x with dy/dx claimed to be 6.
  gradcheck::Case wrong{"planted", "[4]",
                        [] { return std::vector<Tensor>{testing::random_tensor({4}, 1).set_requires_grad()}; },
                        [](const std::vector<Tensor>& x) {
                          Tensor y = scale(x[0].detach(), 3);
                          return record(y, "planted", {x[0]},
                                        [](const Tensor& g) { return std::vector<Tensor>{scale(g, 6)}; });
                        }};
  const auto r = gradcheck::check(wrong);
  CHECK(!r.pass);
  CHECK(r.max_rel_err == Approx(0.5).epsilon(1e-6));  // |6 - 3| / 6
}

TEST_CASE("every engine op passes the gradient checker", "[autograd][gradcheck]") {
  for (const auto& c : gradcheck::engine_cases()) {
    const auto r = gradcheck::check(c);
    INFO(c.op << " " << c.shape << " abs " << r.max_abs_err << " " << r.error);
    CHECK(r.pass);
  }
}
