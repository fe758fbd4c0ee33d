// `dim-bench objectives`: one whole training step (encoder objective, its backward and Adam,
// plus the discriminator's step when the prior term is on) of every DIM objective and critic,
// beside the DIM(L) dot-critic step, on the CPU. Each row prints the critics' pair-scoring
// FLOPs of the forward pass, so the cost of the concat critics is explicit.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/common/subcommands.h"
#include "bench/common/timing.h"
#include "engine/optim.h"
#include "engine/random.h"
#include "models/deep_infomax.h"

using namespace imx;

namespace {

struct Variant {
  std::string name;
  models::DimConfig config;
};

std::vector<Variant> variants(const std::string& arch, int64_t units) {
  models::DimConfig base;
  base.arch = arch;
  base.mi_units = units;
  base.gamma = 0;  // isolate each objective; the prior rows add it back
  auto with = [&](std::string name, auto edit) {
    models::DimConfig c = base;
    edit(c);
    return Variant{std::move(name), c};
  };
  using LC = models::LocalCritic;
  using GC = models::GlobalCritic;
  return {
      with("DIM(L) dot (baseline)", [](auto&) {}),
      with("DIM(L) concat, 7 negatives", [](auto& c) { c.local_critic = LC::concat, c.concat_negatives = 7; }),
      with("DIM(L) concat, all negatives", [](auto& c) { c.local_critic = LC::concat; }),
      with("DIM(G) dot", [](auto& c) { c.alpha = 1, c.beta = 0; }),
      with("DIM(G) concat", [](auto& c) { c.alpha = 1, c.beta = 0, c.global_critic = GC::concat; }),
      with("DIM(L+G) dot/dot", [](auto& c) { c.alpha = 0.5; }),
      with("DIM(L) + prior, no penalty", [](auto& c) { c.gamma = 0.1, c.penalty = 0; }),
      with("DIM(L) + prior + penalty", [](auto& c) { c.gamma = 0.1; }),
      with("DIM(L) + coordinates", [](auto& c) { c.coord = 1; }),
      with("DIM(L) + occlusion", [](auto& c) { c.occlude = true; }),
  };
}

void run_objectives_bench(int reps, int64_t batch, const std::string& arch, int64_t units, const std::string& only) {
  std::printf("training step per objective: %s, batch %lld, mi-units %lld, JSD, float32 CPU, best of %d\n\n",
              arch.c_str(), static_cast<long long>(batch), static_cast<long long>(units), reps);
  std::printf("%-32s %10s %10s %12s %16s\n", "objective", "ms/step", "images/s", "vs baseline", "critic GFLOP/fwd");
  double baseline_ms = 0;
  for (const Variant& v : variants(arch, units)) {
    if (!only.empty() && v.name.find(only) == std::string::npos && baseline_ms > 0) continue;
    models::DeepInfoMax model(v.config);
    model.train();
    Adam opt(model.encoder_parameters(), 1e-4, 0.5, 0.999);
    std::unique_ptr<Adam> opt_d;
    if (model.has_discriminator()) opt_d = std::make_unique<Adam>(model.discriminator_parameters(), 1e-4, 0.5, 0.999);
    const auto& spec = model.encoder().spec();
    Generator gen(7);
    const Tensor x = uniform({batch, spec.channels, spec.size, spec.size}, -1, 1, gen);
    uint64_t step = 0;
    const double s = bench::best_seconds(reps, [&] {
      opt.zero_grad();
      auto enc = model.encoder_loss(x, step);
      enc.objective.total().backward();
      opt.step();
      if (opt_d) {
        opt_d->zero_grad();
        model.discriminator_loss(enc.features.y, step).total().backward();
        opt_d->step();
      }
      ++step;
    });
    const double ms = s * 1e3;
    if (baseline_ms == 0) baseline_ms = ms;
    std::printf("%-32s %10.1f %10.0f %11.2fx %16.2f\n", v.name.c_str(), ms, batch / s, ms / baseline_ms,
                model.critic_flops(batch) / 1e9);
    std::fflush(stdout);
  }
  std::printf("\n(vs baseline: step time relative to the DIM(L) dot-critic step; higher is slower)\n");
}

}  // namespace

namespace imx::bench {

void add_objectives_subcommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "objectives", "Whole CPU training steps of every DIM objective and critic (DIM(L) dot and concat, "
                    "DIM(G) dot and concat, L+G, prior with and without the gradient penalty, coordinate "
                    "prediction, occlusion) beside the DIM(L) dot-critic step.");
  auto reps = std::make_shared<int>(3);
  auto batch = std::make_shared<int64_t>(64);
  auto arch = std::make_shared<std::string>("dcgan32");
  auto units = std::make_shared<int64_t>(512);
  auto only = std::make_shared<std::string>();
  cmd->add_option("--reps", *reps, "Timed repetitions (best is reported)")->capture_default_str();
  cmd->add_option("--batch", *batch, "Batch size")->capture_default_str();
  cmd->add_option("--arch", *arch, "Encoder: mnist28, dcgan32, alexnet64")->capture_default_str();
  cmd->add_option("--mi-units", *units, "Dot critics' width")->capture_default_str();
  cmd->add_option("--only", *only, "Only rows whose name contains this text (the baseline always runs)");
  cmd->callback([=] { run_objectives_bench(*reps, *batch, *arch, *units, *only); });
}

}  // namespace imx::bench
