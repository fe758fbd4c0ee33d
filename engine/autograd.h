// Reverse-mode autograd. Every op records one Node holding its inputs and its single gradient
// rule; backward() and grad() share one walk of the graph in reverse topological order.
//
// Second-order gradients: grad(..., create_graph=true) runs the rules with recording on, so the
// gradients it returns are themselves graph nodes and can be differentiated again (the prior
// discriminator's gradient penalty). That needs rules built from recorded ops; such ops record
// with record_differentiable(). The walk refuses, with an error naming the op, to run any other
// rule under create_graph rather than return a gradient that silently lacks second-order terms.
// Differentiable rules: matmul, linear, relu, sigmoid, softplus, exp, log, neg, square, sqrt,
// add, sub, mul, div, scale, add_scalar, dropout, sum, mean, sum_to, broadcast_to, reshape,
// flatten, permute, concat, slice (and the ops built from them, such as eval-mode batch_norm).
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
  // The rule is made of recorded ops, so running it with recording on differentiates it.
  bool differentiable = false;
};

// Whether ops record their gradient rules (thread-local; on by default).
bool grad_enabled();

// RAII: sets whether ops record for its lifetime, then restores the previous setting.
class GradMode {
 public:
  explicit GradMode(bool enabled);
  ~GradMode();
  GradMode(const GradMode&) = delete;
  GradMode& operator=(const GradMode&) = delete;

 private:
  bool previous_;
};

// Recording off (evaluation, optimizer updates, first-order gradient rules).
class NoGrad : public GradMode {
 public:
  NoGrad() : GradMode(false) {}
};

// Recording on, e.g. for a function that calls grad() but is evaluated under NoGrad.
class EnableGrad : public GradMode {
 public:
  EnableGrad() : GradMode(true) {}
};

// Attaches the gradient rule to an op's output when recording is on and an input needs grad.
// A rule recorded this way may call backend kernels; grad(create_graph=true) refuses it.
Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, GradRule rule);
// The same for a rule composed only of differentiable ops when recording is on (it may still
// take a faster kernel path when grad_enabled() is false, i.e. for first-order gradients).
Tensor record_differentiable(Tensor out, const char* op, std::vector<Tensor> inputs,
                             GradRule rule);

// Runs back-propagation from root with the given seed gradient, accumulating into leaves' .grad.
void run_backward(const Tensor& root, const Tensor& seed);

// d(sum_k <grad_outputs[k], outputs[k]>)/d inputs[j], as torch.autograd.grad. grad_outputs
// defaults to ones shaped like each output. Inputs may be leaves or intermediate tensors; one
// that does not influence the outputs gets zeros of its shape. No leaf's .grad is touched.
// create_graph=false: plain tensors (rules run under NoGrad). create_graph=true: the rules are
// recorded, so the results are differentiable functions of the inputs and of any parameters;
// an op without a differentiable rule on the way raises "<op>: second-order gradients are not
// supported (create_graph)".
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool create_graph = false);

}  // namespace imx
