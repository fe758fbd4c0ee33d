// The autograd engine itself: accumulation, shared subexpressions, no_grad, detach, and that
// the gradient checker can fail.
#include <cmath>

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

TEST_CASE("backward releases the graph it ran; a second walk is an error, not a double count", "[autograd]") {
  Tensor x = Tensor::from({1, 2, 3}, {3}, DType::F64).set_requires_grad();
  Tensor loss = sum(mul(relu(x), x));
  loss.backward();
  CHECK(x.grad().to_vector() == std::vector<double>{2, 4, 6});
  CHECK(loss.grad_fn()->released);
  CHECK(!loss.grad_fn()->rule);
  CHECK_THROWS_WITH(loss.backward(), Catch::Contains("already freed"));
  CHECK(x.grad().to_vector() == std::vector<double>{2, 4, 6});  // untouched by the refused walk
}

TEST_CASE("retain_graph keeps the rules for another backward", "[autograd]") {
  Tensor x = Tensor::from({1, -2}, {2}, DType::F64).set_requires_grad();
  Tensor loss = sum(square(x));
  loss.backward(/*retain_graph=*/true);
  loss.backward();
  CHECK(x.grad().to_vector() == std::vector<double>{4, -8});
  CHECK_THROWS_WITH(loss.backward(), Catch::Contains("already freed"));
}

TEST_CASE("a node keeps only the tensors its rule needs", "[autograd]") {
  // relu's rule needs its output only; its input's storage is freed with the input.
  std::weak_ptr<Storage> input_storage;
  Tensor w = Tensor::from({1, 2}, {1, 2}, DType::F64).set_requires_grad();
  Tensor y;
  {
    Tensor h = matmul(Tensor::from({1, 1, 1, 1}, {2, 2}, DType::F64), w, false, true);  // [2, 1]
    input_storage = h.impl().storage;
    y = relu(h);
  }
  CHECK(input_storage.expired());
  // matmul(a, w): a constant left operand is kept (w's gradient needs it), w itself is not
  // needed by any rule, only reached through its edge.
  sum(y).backward();
  CHECK(w.grad().to_vector() == std::vector<double>{2, 2});
}

TEST_CASE("grad with create_graph retains the graph its result is built on", "[autograd]") {
  // The gradient penalty pattern: dz from grad(create_graph), then a backward through dz that
  // walks the first graph again, reaching the parameter.
  Tensor w = Tensor::from({0.5, -1.5}, {1, 2}, DType::F64).set_requires_grad();
  Tensor z = Tensor::from({1, 2, 3, 4}, {2, 2}, DType::F64).set_requires_grad();
  Tensor d = sum(sigmoid(matmul(z, w, false, true)));
  const Tensor dz = grad({d}, {z}, {}, /*create_graph=*/true)[0];
  sum(square(dz)).backward();
  REQUIRE(w.grad().defined());
  CHECK(std::isfinite(w.grad().to_vector()[0]));
  // Without create_graph the graph is released: a second grad() over it is refused.
  Tensor e = sum(sigmoid(matmul(z, w, false, true)));
  grad({e}, {z});
  CHECK_THROWS_WITH(grad({e}, {z}), Catch::Contains("already freed"));
}
