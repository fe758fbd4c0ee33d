// Numerical gradient checking: every op's gradient rule against central finite differences,
// in float64 on the CPU, and (second_order_cases) gradients of gradients likewise. Kernel
// developers run dim-gradcheck; the test suite runs it too.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace imx::gradcheck {

struct Case {
  std::string op;     // the op under test
  std::string shape;  // the inputs, for the report
  // Makes fresh float64 inputs (the ones to differentiate get requires_grad) ...
  std::function<std::vector<Tensor>()> inputs;
  // ... and computes the op's output from them.
  std::function<Tensor(const std::vector<Tensor>&)> forward;
};

struct Result {
  std::string op, shape;
  double max_abs_err = 0, max_rel_err = 0;
  bool pass = false;
  std::string error;  // set when the case threw
};

struct Options {
  double step = 1e-6;  // central-difference step
  double tol = 1e-6;   // pass when |analytic - numeric| <= tol * max(1, |numeric|) everywhere
};

// Checks d(sum(w * f(x)))/dx for every input that requires grad, with fixed random weights w.
Result check(const Case& c, const Options& opt = {});

// Every engine op, at several shapes including odd ones.
std::vector<Case> engine_cases();
// Second-order cases: each forward returns a gradient taken with grad(create_graph=true), so
// check() tests backward through the double graph (every op with a differentiable rule, and
// the prior discriminator's gradient penalty).
std::vector<Case> second_order_cases();

// DIM's critics, heads and objectives (models/, losses/dim/) on small float64 instances, with
// respect to their input features and parameters (model_cases.cpp, library imx_gradcheck_models).
std::vector<Case> model_cases();
// The prior discriminator's gradient penalty, differentiated with respect to D's parameters.
std::vector<Case> model_second_order_cases();

}  // namespace imx::gradcheck
