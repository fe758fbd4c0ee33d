#include "engine/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/ops.h"

namespace imx {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }

NoGrad::NoGrad() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = previous_; }

Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, GradRule rule) {
  if (!g_grad_enabled) return out;
  bool needed = false;
  for (const auto& t : inputs) needed = needed || (t.defined() && t.requires_grad());
  if (!needed) return out;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->rule = std::move(rule);
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
  return out;
}

void run_backward(const Tensor& root, const Tensor& seed) {
  check(root.requires_grad(), "backward", "the tensor does not require grad (no input of the "
                                          "graph was marked requires_grad, or it ran under NoGrad)");
  check(seed.shape() == root.shape(), "backward",
        "seed " + seed.describe() + " does not match " + root.describe());

  // Reverse topological order by an iterative depth-first search over producing ops.
  std::vector<TensorImpl*> order;
  std::unordered_set<TensorImpl*> seen;
  std::vector<std::pair<TensorImpl*, size_t>> stack{{&root.impl(), 0}};
  seen.insert(&root.impl());
  while (!stack.empty()) {
    auto& [t, next] = stack.back();
    const auto& fn = t->grad_fn;
    if (fn && next < fn->inputs.size()) {
      const Tensor& in = fn->inputs[next++];
      if (in.defined() && in.requires_grad() && seen.insert(&in.impl()).second)
        stack.push_back({&in.impl(), 0});
      continue;
    }
    order.push_back(t);
    stack.pop_back();
  }

  NoGrad no_grad;  // gradient rules are not themselves recorded
  std::unordered_map<TensorImpl*, Tensor> grads;
  grads[&root.impl()] = seed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* t = *it;
    auto g = grads.find(t);
    if (g == grads.end()) continue;
    Tensor grad = g->second;
    grads.erase(g);
    if (!t->grad_fn) {  // a leaf: accumulate into .grad
      if (t->grad) {
        Tensor acc(t->grad);
        t->grad = add(acc, grad).impl_ptr();
      } else {
        t->grad = grad.clone().impl_ptr();
      }
      continue;
    }
    const Node& node = *t->grad_fn;
    std::vector<Tensor> in_grads = node.rule(grad);
    check(in_grads.size() == node.inputs.size(), node.op,
          "gradient rule returned the wrong number of gradients");
    for (size_t i = 0; i < in_grads.size(); ++i) {
      const Tensor& in = node.inputs[i];
      if (!in.defined() || !in.requires_grad() || !in_grads[i].defined()) continue;
      check(in_grads[i].shape() == in.shape(), node.op,
            "gradient " + shape_str(in_grads[i].shape()) + " for input " + shape_str(in.shape()));
      auto [slot, fresh] = grads.try_emplace(&in.impl(), in_grads[i]);
      if (!fresh) slot->second = add(slot->second, in_grads[i]);
    }
  }
}

}  // namespace imx
