#include "engine/autograd.h"

#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "engine/ops.h"

namespace imx {

namespace {

thread_local bool g_grad_enabled = true;
thread_local OpProfile* g_profile = nullptr;

// node.rule(grad), timed into the installed profile if there is one.
std::vector<Tensor> run_rule(const Node& node, const Tensor& grad) {
  if (!g_profile) return node.rule(grad);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Tensor> in_grads = node.rule(grad);
  auto& entry = g_profile->backward_by_op[node.op];
  entry.calls += 1;
  entry.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return in_grads;
}

Edge edge_to(const Tensor& t) {
  Edge e;
  if (!t.defined() || !t.requires_grad()) return e;
  if (t.grad_fn())
    e.fn = t.grad_fn();
  else
    e.leaf = t.impl_ptr();
  e.shape = t.shape();
  return e;
}

Tensor attach(Tensor out, const char* op, std::vector<Tensor> inputs, GradRule rule,
              bool differentiable) {
  if (!g_grad_enabled) return out;
  bool needed = false;
  for (const auto& t : inputs) needed = needed || (t.defined() && t.requires_grad());
  if (!needed) return out;
  if (g_profile) {  // the forward clock: everything since the previous record is this op's
    const auto now = std::chrono::steady_clock::now();
    auto& entry = g_profile->forward_by_op[op];
    entry.calls += 1;
    entry.seconds += std::chrono::duration<double>(now - g_profile->forward_mark).count();
    g_profile->forward_mark = now;
  }
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs.reserve(inputs.size());
  for (const auto& t : inputs) node->inputs.push_back(edge_to(t));
  node->rule = std::move(rule);
  node->differentiable = differentiable;
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
  return out;
}

// A point of the graph: an op's output (identified by its node) or a leaf.
struct Vertex {
  const void* key;
  std::shared_ptr<Node> fn;  // null for a leaf; held so released edges cannot free it mid-walk
  TensorImpl* leaf;          // the leaf itself, else null
};

Vertex vertex_of(const Tensor& t) {
  if (t.grad_fn()) return {t.grad_fn().get(), t.grad_fn(), nullptr};
  return {&t.impl(), nullptr, &t.impl()};
}

Vertex vertex_of(const Edge& e) { return {e.key(), e.fn, e.leaf.get()}; }

[[noreturn]] void fail_released(const Node& node) {
  fail(node.op, "backward through a graph that was already freed: an earlier backward() or grad() "
                "ran this op's gradient rule and released its saved tensors (pass retain_graph = "
                "true to that call to walk the graph again)");
}

// The one reverse-mode walk behind backward() and grad(). Seeds the roots, then, in reverse
// topological order, runs the rule of every node on a path to a target and hands each target
// its complete gradient (all contributions summed). Rules run with recording set to
// create_graph; unless retain_graph, each rule is released as soon as it has run. Nodes that
// lead to no target are skipped (and kept).
void walk(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds, bool create_graph,
          bool retain_graph, const std::function<bool(const Vertex&)>& is_target,
          const std::function<void(const Vertex&, const Tensor&)>& deliver) {
  // Post-order depth-first search; a vertex is needed when it is a target or one of its inputs
  // is needed (inputs finish before their consumers).
  std::vector<Vertex> order;
  std::unordered_set<const void*> seen, needed;
  auto is_needed = [&](const Edge& e) { return !e.empty() && needed.count(e.key()) > 0; };
  for (const Tensor& root : roots) {
    Vertex rv = vertex_of(root);
    if (!seen.insert(rv.key).second) continue;
    std::vector<std::pair<Vertex, size_t>> stack{{rv, 0}};
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (v.fn && v.fn->released) fail_released(*v.fn);
      if (v.fn && next < v.fn->inputs.size()) {
        const Edge& in = v.fn->inputs[next++];
        if (!in.empty() && seen.insert(in.key()).second) stack.push_back({vertex_of(in), 0});
        continue;
      }
      bool need = is_target(v);
      if (v.fn)
        for (const auto& in : v.fn->inputs) need = need || is_needed(in);
      if (need) needed.insert(v.key);
      order.push_back(std::move(v));
      stack.pop_back();
    }
  }

  GradMode mode(create_graph);
  std::unordered_map<const void*, Tensor> grads;
  auto accumulate = [&](const void* key, const Tensor& g) {
    auto [slot, fresh] = grads.try_emplace(key, g);
    if (!fresh) slot->second = add(slot->second, g);
  };
  for (size_t k = 0; k < roots.size(); ++k) accumulate(vertex_of(roots[k]).key, seeds[k]);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Vertex& v = *it;
    auto g = grads.find(v.key);
    if (g == grads.end() || !needed.count(v.key)) continue;
    const Tensor grad = g->second;
    grads.erase(g);
    if (is_target(v)) deliver(v, grad);
    if (!v.fn) continue;
    Node& node = *v.fn;
    bool feeds_target = false;
    for (const auto& in : node.inputs) feeds_target = feeds_target || is_needed(in);
    if (!feeds_target) continue;  // an intermediate target with nothing needed beyond it
    check(!create_graph || node.differentiable, node.op,
          "second-order gradients are not supported (create_graph)");
    const std::vector<Tensor> in_grads = run_rule(node, grad);
    check(in_grads.size() == node.inputs.size(), node.op,
          "gradient rule returned the wrong number of gradients");
    for (size_t i = 0; i < in_grads.size(); ++i) {
      const Edge& in = node.inputs[i];
      if (!is_needed(in) || !in_grads[i].defined()) continue;
      check(in_grads[i].shape() == in.shape, node.op,
            "gradient " + shape_str(in_grads[i].shape()) + " for input " + shape_str(in.shape));
      accumulate(in.key(), in_grads[i]);
    }
    if (!retain_graph) {  // `order` keeps the producers alive until the walk ends
      node.rule = nullptr;
      node.inputs.clear();
      node.released = true;
    }
  }
}

}  // namespace

bool grad_enabled() { return g_grad_enabled; }

GradMode::GradMode(bool enabled) : previous_(g_grad_enabled) { g_grad_enabled = enabled; }
GradMode::~GradMode() { g_grad_enabled = previous_; }

OpProfile* set_op_profile(OpProfile* profile) {
  OpProfile* previous = g_profile;
  g_profile = profile;
  return previous;
}

Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, GradRule rule) {
  return attach(std::move(out), op, std::move(inputs), std::move(rule), false);
}

Tensor record_differentiable(Tensor out, const char* op, std::vector<Tensor> inputs,
                             GradRule rule) {
  return attach(std::move(out), op, std::move(inputs), std::move(rule), true);
}

void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph) {
  check(root.requires_grad(), "backward", "the tensor does not require grad (no input of the "
                                          "graph was marked requires_grad, or it ran under NoGrad)");
  check(seed.shape() == root.shape(), "backward",
        "seed " + seed.describe() + " does not match " + root.describe());
  // Every leaf is a target; its gradient accumulates into .grad.
  walk({root}, {seed}, false, retain_graph, [](const Vertex& v) { return v.leaf != nullptr; },
       [](const Vertex& v, const Tensor& g) {
         TensorImpl* t = v.leaf;
         if (t->grad) {
           t->grad = add(Tensor(t->grad), g).impl_ptr();
         } else if (g.impl_ptr().use_count() == 1 && g.impl().storage.use_count() == 1) {
           // Nothing else can see this gradient (the walk held its last handle and its rule
           // is released): take it as .grad instead of copying it, as PyTorch does.
           t->grad = g.impl_ptr();
         } else {
           t->grad = g.clone().impl_ptr();
         }
       });
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool create_graph,
                         std::optional<bool> retain_graph) {
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
  std::unordered_map<const void*, Tensor> found;
  for (const Tensor& x : inputs) {
    check(x.defined(), "grad", "undefined input");
    found.emplace(vertex_of(x).key, Tensor{});
  }
  walk(outputs, seeds, create_graph, retain_graph.value_or(create_graph),
       [&](const Vertex& v) { return found.count(v.key) > 0; },
       [&](const Vertex& v, const Tensor& g) { found[v.key] = g; });
  std::vector<Tensor> out;
  for (const Tensor& x : inputs) {
    const Tensor& g = found[vertex_of(x).key];
    if (!g.defined())
      out.push_back(Tensor::zeros(x.shape(), x.dtype(), x.device()));
    else  // a seed can come back as it is (grad(y, y)); without create_graph it is cut off
      out.push_back(create_graph ? g : g.detach());
  }
  return out;
}

}  // namespace imx
