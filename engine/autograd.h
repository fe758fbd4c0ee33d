// Reverse-mode autograd. Every op records one Node holding its inputs and its single gradient
// rule; backward() walks the graph in reverse topological order and accumulates gradients.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace imx {

// Given the gradient of the op's output, returns one gradient per input (an undefined Tensor
// where the input needs none).
using GradRule = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node {
  std::string op;
  std::vector<Tensor> inputs;
  GradRule rule;
};

// Whether ops record their gradient rules (thread-local; on by default).
bool grad_enabled();

// RAII: turns recording off for its lifetime (evaluation, optimizer updates, gradient rules).
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

// Attaches the gradient rule to an op's output when recording is on and an input needs grad.
Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, GradRule rule);

// Runs back-propagation from root with the given seed gradient.
void run_backward(const Tensor& root, const Tensor& seed);

}  // namespace imx
