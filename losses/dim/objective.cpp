#include "losses/dim/objective.h"

#include "engine/autograd.h"
#include "engine/ops.h"

namespace imx::dim {

void Objective::add(std::string name, Tensor value, double weight) {
  check(value.defined() && value.numel() == 1, "Objective",
        "term '" + name + "' must be a one-element tensor");
  check(!has(name), "Objective", "term '" + name + "' added twice");
  terms_.push_back(Term{std::move(name), std::move(value), weight});
}

bool Objective::has(const std::string& name) const {
  for (const auto& t : terms_)
    if (t.name == name) return true;
  return false;
}

const Tensor& Objective::term(const std::string& name) const {
  for (const auto& t : terms_)
    if (t.name == name) return t.value;
  fail("Objective", "no term '" + name + "'");
}

Tensor Objective::total() const {
  Tensor sum;
  for (const auto& t : terms_) {
    Tensor w = t.weight == 1.0 ? t.value : imx::scale(t.value, t.weight);
    sum = sum.defined() ? imx::add(sum, w) : w;
  }
  return sum;
}

Tensor gradient_penalty(const std::function<Tensor(const Tensor&)>& discriminator, const Tensor& z) {
  check(z.dim() == 2, "gradient_penalty", "expects inputs [N, D], got " + shape_str(z.shape()));
  EnableGrad recording;  // the penalty needs D's graph even when the caller records nothing
  Tensor input = z.detach();
  input.set_requires_grad(true);
  // Outputs of different samples are independent, so the gradient of their sum holds each
  // sample's own dD/dz.
  const Tensor dz = grad({sum(discriminator(input))}, {input}, {}, /*create_graph=*/true)[0];
  return mean(sum(square(dz), {1}));
}

}  // namespace imx::dim
