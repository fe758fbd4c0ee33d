#include "engine/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/ops.h"

namespace imx {

namespace {

thread_local bool g_grad_enabled = true;

Tensor attach(Tensor out, const char* op, std::vector<Tensor> inputs, GradRule rule,
              bool differentiable) {
  if (!g_grad_enabled) return out;
  bool needed = false;
  for (const auto& t : inputs) needed = needed || (t.defined() && t.requires_grad());
  if (!needed) return out;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->rule = std::move(rule);
  node->differentiable = differentiable;
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
  return out;
}

// The one reverse-mode walk behind backward() and grad(). Seeds the roots, then, in reverse
// topological order, runs the rule of every node on a path to a target and hands each target
// its complete gradient (all contributions summed). Rules run with recording set to
// create_graph. Nodes that lead to no target are skipped.
void walk(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds, bool create_graph,
          const std::function<bool(const TensorImpl*)>& is_target,
          const std::function<void(TensorImpl*, const Tensor&)>& deliver) {
  // Post-order depth-first search over the tensors that require grad; a tensor is needed when
  // it is a target or one of its inputs is needed (inputs finish before their consumers).
  std::vector<TensorImpl*> order;
  std::unordered_set<const TensorImpl*> seen, needed;
  auto is_needed = [&](const Tensor& t) { return t.defined() && needed.count(&t.impl()) > 0; };
  for (const Tensor& root : roots) {
    if (!seen.insert(&root.impl()).second) continue;
    std::vector<std::pair<TensorImpl*, size_t>> stack{{&root.impl(), 0}};
    while (!stack.empty()) {
      auto& [t, next] = stack.back();
      const auto& fn = t->grad_fn;
      if (fn && next < fn->inputs.size()) {
        const Tensor& in = fn->inputs[next++];
        if (in.defined() && in.requires_grad() && seen.insert(&in.impl()).second)
          stack.push_back({&in.impl(), 0});
        continue;
      }
      bool need = is_target(t);
      if (fn)
        for (const auto& in : fn->inputs) need = need || is_needed(in);
      if (need) needed.insert(t);
      order.push_back(t);
      stack.pop_back();
    }
  }

  GradMode mode(create_graph);
  std::unordered_map<TensorImpl*, Tensor> grads;
  auto accumulate = [&](TensorImpl* t, const Tensor& g) {
    auto [slot, fresh] = grads.try_emplace(t, g);
    if (!fresh) slot->second = add(slot->second, g);
  };
  for (size_t k = 0; k < roots.size(); ++k) accumulate(&roots[k].impl(), seeds[k]);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* t = *it;
    auto g = grads.find(t);
    if (g == grads.end() || !needed.count(t)) continue;
    const Tensor grad = g->second;
    grads.erase(g);
    if (is_target(t)) deliver(t, grad);
    if (!t->grad_fn) continue;
    const Node& node = *t->grad_fn;
    bool feeds_target = false;
    for (const auto& in : node.inputs) feeds_target = feeds_target || is_needed(in);
    if (!feeds_target) continue;  // an intermediate target with nothing needed beyond it
    check(!create_graph || node.differentiable, node.op,
          "second-order gradients are not supported (create_graph)");
    const std::vector<Tensor> in_grads = node.rule(grad);
    check(in_grads.size() == node.inputs.size(), node.op,
          "gradient rule returned the wrong number of gradients");
    for (size_t i = 0; i < in_grads.size(); ++i) {
      const Tensor& in = node.inputs[i];
      if (!is_needed(in) || !in_grads[i].defined()) continue;
      check(in_grads[i].shape() == in.shape(), node.op,
            "gradient " + shape_str(in_grads[i].shape()) + " for input " + shape_str(in.shape()));
      accumulate(&in.impl(), in_grads[i]);
    }
  }
}

}  // namespace

bool grad_enabled() { return g_grad_enabled; }

GradMode::GradMode(bool enabled) : previous_(g_grad_enabled) { g_grad_enabled = enabled; }
GradMode::~GradMode() { g_grad_enabled = previous_; }

Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, GradRule rule) {
  return attach(std::move(out), op, std::move(inputs), std::move(rule), false);
}

Tensor record_differentiable(Tensor out, const char* op, std::vector<Tensor> inputs,
                             GradRule rule) {
  return attach(std::move(out), op, std::move(inputs), std::move(rule), true);
}

void run_backward(const Tensor& root, const Tensor& seed) {
  check(root.requires_grad(), "backward", "the tensor does not require grad (no input of the "
                                          "graph was marked requires_grad, or it ran under NoGrad)");
  check(seed.shape() == root.shape(), "backward",
        "seed " + seed.describe() + " does not match " + root.describe());
  // Every leaf is a target; its gradient accumulates into .grad.
  walk({root}, {seed}, false, [](const TensorImpl* t) { return !t->grad_fn; },
       [](TensorImpl* t, const Tensor& g) {
         t->grad = t->grad ? add(Tensor(t->grad), g).impl_ptr() : g.clone().impl_ptr();
       });
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool create_graph) {
  check(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "grad",
        std::to_string(grad_outputs.size()) + " grad_outputs for " +
            std::to_string(outputs.size()) + " outputs");
  std::vector<Tensor> seeds;
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& y = outputs[k];
    check(y.defined() && y.requires_grad(), "grad",
          "output " + std::to_string(k) + " does not require grad (no input of the graph was "
          "marked requires_grad, or it ran under NoGrad)");
    seeds.push_back(grad_outputs.empty() ? Tensor::full(y.shape(), 1.0, y.dtype(), y.device())
                                         : grad_outputs[k]);
    check(seeds[k].defined() && seeds[k].shape() == y.shape(), "grad",
          "grad_outputs[" + std::to_string(k) + "] does not match " + y.describe());
  }
  std::unordered_map<const TensorImpl*, Tensor> found;
  for (const Tensor& x : inputs) {
    check(x.defined(), "grad", "undefined input");
    found.emplace(&x.impl(), Tensor{});
  }
  walk(outputs, seeds, create_graph, [&](const TensorImpl* t) { return found.count(t) > 0; },
       [&](TensorImpl* t, const Tensor& g) { found[t] = g; });
  std::vector<Tensor> out;
  for (const Tensor& x : inputs) {
    const Tensor& g = found[&x.impl()];
    if (!g.defined())
      out.push_back(Tensor::zeros(x.shape(), x.dtype(), x.device()));
    else  // a seed can come back as it is (grad(y, y)); without create_graph it is cut off
      out.push_back(create_graph ? g : g.detach());
  }
  return out;
}

}  // namespace imx
