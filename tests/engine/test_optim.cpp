// Optimizer steps and the schedule against values computed by hand.
#include "engine/nn/module.h"
#include "engine/optim.h"
#include "helpers.h"

using namespace imx;

namespace {
Tensor param_with_grad(double p, double g) {
  Tensor t = Tensor::from({p}, {1}, DType::F64).set_requires_grad();
  sum(scale(t, g)).backward();  // grad = g
  return t;
}
}  // namespace

TEST_CASE("Adam: two steps by hand", "[optim]") {
  // p=1, g=0.5, lr=0.1, betas (0.9, 0.999): each bias-corrected step moves p by lr*0.5/0.5.
  Tensor p = param_with_grad(1.0, 0.5);
  Adam adam({p}, 0.1, 0.9, 0.999, 1e-8);
  adam.step();
  CHECK(p.item() == Approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-12));
  adam.step();  // same gradient: m-hat = 0.5, v-hat = 0.25 again
  CHECK(p.item() == Approx(0.8).epsilon(1e-7));
  CHECK(adam.first_moments()[0].item() == Approx(0.095));
  CHECK(adam.second_moments()[0].item() == Approx(0.999 * 0.00025 + 0.001 * 0.25));
}

TEST_CASE("Adam with the DIM betas (0.5, 0.999) and weight decay", "[optim]") {
  Tensor p = param_with_grad(2.0, 1.0);
  Adam adam({p}, 1e-2, 0.5, 0.999, 1e-8, 0.1);  // effective grad = 1 + 0.1*2 = 1.2
  adam.step();
  CHECK(p.item() == Approx(2.0 - 1e-2 * 1.2 / (1.2 + 1e-8)).epsilon(1e-12));
}

TEST_CASE("SGD with momentum: PyTorch's buffer rule", "[optim]") {
  Tensor p = param_with_grad(1.0, 1.0);
  SGD sgd({p}, 0.1, 0.9);
  sgd.step();  // buf = 1
  CHECK(p.item() == Approx(0.9));
  sgd.step();  // buf = 0.9 + 1
  CHECK(p.item() == Approx(0.71));
}

TEST_CASE("MultiStepLR divides at each milestone", "[optim]") {
  Tensor p = param_with_grad(0, 0);
  Adam adam({p}, 1e-4);
  MultiStepLR sched(adam, {100, 50}, 0.1);
  sched.set_epoch(0);
  CHECK(adam.lr() == Approx(1e-4));
  sched.set_epoch(50);
  CHECK(adam.lr() == Approx(1e-5));
  sched.set_epoch(120);
  CHECK(adam.lr() == Approx(1e-6));
}

TEST_CASE("default initializers match PyTorch's bounds", "[optim][init]") {
  Generator gen(3);
  nn::Linear lin(400, 300, true, gen);
  const double bound = 1 / std::sqrt(400.0);
  double sq = 0;
  for (double v : lin.weight.to_vector()) {
    REQUIRE(std::abs(v) <= bound);
    sq += v * v;
  }
  // uniform(-b, b) has variance b^2 / 3
  CHECK(sq / 120000 == Approx(bound * bound / 3).epsilon(0.02));
  for (double v : lin.bias.to_vector()) CHECK(std::abs(v) <= bound);
  nn::Conv2d conv(3, 64, 4, 2, 1, false, gen);
  for (double v : conv.weight.to_vector()) REQUIRE(std::abs(v) <= 1 / std::sqrt(48.0));
  CHECK(!conv.bias.defined());
  CHECK(lin.named_parameters().size() == 2);
}
