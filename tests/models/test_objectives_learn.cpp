// Each DIM objective lowers its own loss over a short run on a small synthetic set: 28x28
// images drawn from a few blurred prototypes plus noise, so the features of an image carry
// information about the image that Y can learn to predict.
#include <catch.hpp>
#include <cmath>

#include "engine/optim.h"
#include "engine/random.h"
#include "models/deep_infomax.h"

using namespace imx;
using models::DimConfig;

namespace {

// n images [n, 1, 28, 28] in [-1, 1]: prototype (i % 4) plus uniform noise of amplitude 0.3.
Tensor synthetic_images(int64_t n, uint64_t seed) {
  Generator gen(seed);
  const std::vector<double> noise = uniform({n, 28 * 28}, -0.3, 0.3, gen, DType::F64).to_vector();
  std::vector<double> px(n * 28 * 28);
  for (int64_t i = 0; i < n; ++i)
    for (int r = 0; r < 28; ++r)
      for (int c = 0; c < 28; ++c) {
        const double cx = 7 + 14 * (i % 2), cy = 7 + 14 * ((i / 2) % 2);
        const double blob = std::exp(-((r - cy) * (r - cy) + (c - cx) * (c - cx)) / 40.0);
        px[(i * 28 + r) * 28 + c] = std::clamp(2 * blob - 1 + noise[i * 784 + r * 28 + c], -1.0, 1.0);
      }
  return Tensor::from(px, {n, 1, 28, 28});
}

// Mean of the named term over the first and the last `window` of `steps` steps.
std::pair<double, double> train(const DimConfig& c, const std::string& term, int steps = 24, int window = 4) {
  models::DeepInfoMax dim(c);
  dim.train();
  Adam opt(dim.encoder_parameters(), 1e-3, 0.5, 0.999);
  std::unique_ptr<Adam> opt_d;
  if (dim.has_discriminator()) opt_d = std::make_unique<Adam>(dim.discriminator_parameters(), 1e-3, 0.5, 0.999);
  const Tensor data = synthetic_images(64, 5);
  double first = 0, last = 0;
  for (int s = 0; s < steps; ++s) {
    const int64_t b0 = (s % 4) * 16;
    const Tensor x = slice(data, 0, b0, b0 + 16).detach();
    opt.zero_grad();
    auto enc = dim.encoder_loss(x, s);
    enc.objective.total().backward();
    opt.step();
    double value = enc.objective.has(term) ? enc.objective.term(term).item() : 0;
    if (opt_d) {
      opt_d->zero_grad();
      const dim::Objective d = dim.discriminator_loss(enc.features.y, s);
      d.total().backward();
      opt_d->step();
      if (d.has(term)) value = d.term(term).item();
    }
    REQUIRE(std::isfinite(value));
    if (s < window) first += value / window;
    if (s >= steps - window) last += value / window;
  }
  return {first, last};
}

DimConfig small() {
  DimConfig c;
  c.arch = "mnist28";
  c.mi_units = 32;
  c.concat_units = 16;
  c.gamma = 0;
  return c;
}

}  // namespace

TEST_CASE("every objective lowers its loss on a synthetic set", "[models][learn]") {
  using LC = models::LocalCritic;
  using GC = models::GlobalCritic;
  struct Run {
    const char* name;
    const char* term;
    void (*edit)(DimConfig&);
  };
  const Run runs[] = {
      {"DIM(L) dot", "local", [](DimConfig&) {}},
      {"DIM(L) concat, all negatives", "local", [](DimConfig& c) { c.local_critic = LC::concat; }},
      {"DIM(L) concat, 3 negatives", "local", [](DimConfig& c) { c.local_critic = LC::concat, c.concat_negatives = 3; }},
      {"DIM(L) infoNCE", "local", [](DimConfig& c) { c.estimator = mi::Estimator::infonce; }},
      {"DIM(G) dot", "global", [](DimConfig& c) { c.alpha = 1, c.beta = 0; }},
      {"DIM(G) concat", "global", [](DimConfig& c) { c.alpha = 1, c.beta = 0, c.global_critic = GC::concat; }},
      {"DIM(G) concat DV", "global",
       [](DimConfig& c) { c.alpha = 1, c.beta = 0, c.global_critic = GC::concat, c.estimator = mi::Estimator::dv; }},
      {"coordinates", "coord", [](DimConfig& c) { c.coord = 1; }},
      {"occlusion", "local", [](DimConfig& c) { c.occlude = true; }},
      {"prior discriminator with penalty", "disc", [](DimConfig& c) { c.gamma = 0.1; }},
  };
  for (const Run& r : runs) {
    DimConfig c = small();
    r.edit(c);
    const auto [first, last] = train(c, r.term);
    INFO(r.name << ": " << r.term << " " << first << " -> " << last);
    CHECK(last < first);
  }
}
