#include "evaluation/budget.h"

#include <cmath>
#include <cstdio>

#include "engine/core.h"

namespace imx::eval {

const std::vector<std::string>& budget_presets() {
  static const std::vector<std::string> names{"full", "quick"};
  return names;
}

Budget budget_preset(const std::string& name) {
  Budget b;
  b.preset = name;
  if (name == "full") return b;
  if (name == "quick") {
    // Measured on Fashion-MNIST with every baseline: README.md, "dim-eval".
    b.probe_epochs = 2;
    b.probe_milestones = scaled_milestones(2);
    b.probe_lr = 1e-3;
    b.linear_epochs = 2;
    b.linear_milestones = scaled_milestones(2);
    b.linear_lr = 1e-3;
    b.knn_queries = 2000;
    b.dependency_steps = 300;
    b.bn_images = 10000;  // 156 batches of 64: the averages barely move with more
    return b;
  }
  fail("dim-eval", "unknown --budget '" + name + "' (valid: full, quick)");
}

std::vector<int64_t> scaled_milestones(int64_t epochs) {
  std::vector<int64_t> out;
  for (const double m : {50.0, 100.0}) {
    const auto e = static_cast<int64_t>(std::lround(m * static_cast<double>(epochs) / 150.0));
    if (e >= 1 && e < epochs && (out.empty() || out.back() != e)) out.push_back(e);
  }
  return out;
}

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string schedule(int64_t epochs, double lr, const std::vector<int64_t>& milestones) {
  if (epochs == 0) return "not run";
  std::string s = std::to_string(epochs) + " epochs (Adam lr " + number(lr);
  for (size_t i = 0; i < milestones.size(); ++i) s += (i ? ", " : ", x0.1 at ") + std::to_string(milestones[i]);
  return s + ")";
}

}  // namespace

std::string describe(const Budget& b) {
  std::string knn = b.knn_queries < 0 ? "not run"
                    : b.knn_queries == 0 ? "all test images"
                                         : "first " + std::to_string(b.knn_queries) + " test images";
  return b.preset + ": MLP probe " + schedule(b.probe_epochs, b.probe_lr, b.probe_milestones) + "; linear probe " +
         schedule(b.linear_epochs, b.linear_lr, b.linear_milestones) + "; k-NN " + knn + "; NDM/MINE " +
         (b.dependency_steps ? std::to_string(b.dependency_steps) + " steps" : std::string("not run")) +
         "; BN statistics from " + (b.bn_images ? std::to_string(b.bn_images) : std::string("all")) +
         " training images";
}

nlohmann::json to_json(const Budget& b) {
  return {{"preset", b.preset},
          {"probe_epochs", b.probe_epochs},
          {"probe_milestones", b.probe_milestones},
          {"probe_lr", b.probe_lr},
          {"linear_epochs", b.linear_epochs},
          {"linear_milestones", b.linear_milestones},
          {"linear_lr", b.linear_lr},
          {"knn_queries", b.knn_queries},
          {"dependency_steps", b.dependency_steps},
          {"bn_images", b.bn_images}};
}

}  // namespace imx::eval
