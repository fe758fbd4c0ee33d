// How DIM's terms combine (dim-reference.md §1, §3): the encoder minimizes
//   alpha · global MI loss + beta · local MI loss + gamma · prior term + coord · coordinate loss,
// and the prior discriminator, in its own step, minimizes its loss plus the gradient penalty.
// An Objective keeps every term by name, unweighted, beside its weight, so tools can log each
// term and differentiate the total.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace imx::dim {

struct Term {
  std::string name;  // "local", "global", "prior", "coord", "disc", "penalty"
  Tensor value;      // a one-element tensor (the unweighted term)
  double weight;
};

class Objective {
 public:
  void add(std::string name, Tensor value, double weight);
  const std::vector<Term>& terms() const { return terms_; }
  bool has(const std::string& name) const;
  const Tensor& term(const std::string& name) const;  // throws imx::Error for an unknown name
  // sum of weight · value over the terms (an undefined tensor when there are none).
  Tensor total() const;

 private:
  std::vector<Term> terms_;
};

// The reference code's gradient penalty: the mean over the batch of the squared norm of
// dD(z_n)/dz_n, as a differentiable function of D's parameters (second-order autograd).
// `z` must not require grad itself (a detached encoding or a prior sample).
Tensor gradient_penalty(const std::function<Tensor(const Tensor&)>& discriminator, const Tensor& z);

}  // namespace imx::dim
