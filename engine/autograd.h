// Reverse-mode autograd. Every op records one Node holding edges to its inputs' producers and
// its single gradient rule; backward() and grad() share one walk of the graph in reverse
// topological order.
//
// Memory: a node's edges name where gradients go but hold no tensor data (a leaf edge holds the
// leaf itself, whose .grad it fills); the rule captures exactly the tensors it needs. Once a
// walk has run a rule it releases it, and with it the saved tensors, unless the walk retains
// the graph (as PyTorch without retain_graph). Walking a released node again is an error, not a
// silent double count. grad(create_graph=true) retains by default: the gradient penalty
// differentiates the graph it built once more.
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
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace imx {

// Given the gradient of the op's output, returns one gradient per input (an undefined Tensor
// where the input needs none).
using GradRule = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node;

// Where the gradient of one input of a node goes: the node that produced the input, or the
// input itself when it is a leaf. Empty for inputs that need no gradient.
struct Edge {
  std::shared_ptr<Node> fn;
  std::shared_ptr<TensorImpl> leaf;
  Shape shape;  // the input's shape, to check the rule's gradient against
  bool empty() const { return !fn && !leaf; }
  // Identifies the input within a walk: a node produces exactly one tensor.
  const void* key() const { return fn ? static_cast<const void*>(fn.get()) : leaf.get(); }
};

struct Node {
  std::string op;
  std::vector<Edge> inputs;  // one per op input, in the rule's order
  GradRule rule;
  // The rule is made of recorded ops, so running it with recording on differentiates it.
  bool differentiable = false;
  // A walk ran the rule and freed it with its saved tensors (and the edges).
  bool released = false;
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

// Wall time by op name while installed (dim-bench engine --breakdown), on the CPU where kernels
// finish before they return (on CUDA it is their launch). Installed per thread.
// - backward: each gradient rule's own time, from the walk;
// - forward: the time from the previous recorded op (or mark()) to this op's record, so it
//   holds the op's kernels plus whatever ran between (ops that record nothing, glue).
struct OpProfile {
  struct Entry {
    int64_t calls = 0;
    double seconds = 0;
  };
  std::map<std::string, Entry> forward_by_op, backward_by_op;
  std::chrono::steady_clock::time_point forward_mark = std::chrono::steady_clock::now();
  // Starts the forward clock: call it where the timed forward pass begins.
  void mark() { forward_mark = std::chrono::steady_clock::now(); }
};
// Installs `profile` (nullptr: none) for this thread's ops and walks; returns the one it replaces.
OpProfile* set_op_profile(OpProfile* profile);

// Runs back-propagation from root with the given seed gradient, accumulating into leaves' .grad.
// The rules that ran are released unless retain_graph.
void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph = false);

// d(sum_k <grad_outputs[k], outputs[k]>)/d inputs[j], as torch.autograd.grad. grad_outputs
// defaults to ones shaped like each output. Inputs may be leaves or intermediate tensors; one
// that does not influence the outputs gets zeros of its shape. No leaf's .grad is touched.
// create_graph=false: plain tensors (rules run under NoGrad). create_graph=true: the rules are
// recorded, so the results are differentiable functions of the inputs and of any parameters;
// an op without a differentiable rule on the way raises "<op>: second-order gradients are not
// supported (create_graph)". retain_graph (default: create_graph) keeps the rules that ran, so
// the same graph can be walked again.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool create_graph = false,
                         std::optional<bool> retain_graph = std::nullopt);

}  // namespace imx
