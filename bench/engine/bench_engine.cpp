// `dim-bench engine`: the engine's matrix product, conv2d (forward + backward) at the DIM
// encoders' layer sizes and whole DIM(L) training steps on the CPU, each as GFLOP/s and as a
// share of the sgemm ceiling (the faster of OpenBLAS and oneDNN) measured in the same run.
// Training steps print the FLOP count their share is computed from (step_flops.h), images/s,
// and the step's peak tensor memory and allocations from the CPU caching allocator.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/common/subcommands.h"
#include "bench/common/timing.h"
#include "bench/engine/step_flops.h"
#include "engine/autograd.h"
#include "blas/gemm.h"
#include "engine/backend.h"
#include "engine/cpu/conv_library.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/random.h"
#include "models/deep_infomax.h"
#include "models/encoder.h"

using namespace imx;

namespace {

struct Args {
  int reps = 20;
  int step_reps = 5;
  int64_t batch = 64;
  bool json = false;
  std::vector<std::string> archs{"mnist28", "dcgan32"};
  std::vector<int64_t> units{512, 2048};
  std::vector<std::string> estimators{"jsd", "infonce"};
  bool skip_kernels = false;
  bool breakdown = false;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

struct ConvLayer {
  const char* name;
  int64_t c_in, h, c_out, k, stride, pad;
};

void emit(const Args& a, const nlohmann::json& row, const std::string& human) {
  if (a.json) std::cout << row.dump() << std::endl;
  else std::printf("%s\n", human.c_str());
  std::fflush(stdout);
}

nlohmann::json rate_row(const char* kind, const std::string& what, double flops, double seconds, double ceiling) {
  const double gf = flops / seconds / 1e9;
  return {{"kind", kind},   {"what", what},         {"flops", flops},
          {"ms", seconds * 1e3}, {"gflops", gf}, {"pct_of_ceiling", 100 * gf / ceiling},
          {"ceiling_gflops", ceiling}};
}

std::string rate_line(const std::string& what, double flops, double seconds, double ceiling) {
  char buf[200];
  const double gf = flops / seconds / 1e9;
  std::snprintf(buf, sizeof buf, "%-46s %8.2f GFLOP %9.2f ms %7.1f GFLOP/s %5.1f%% of ceiling", what.c_str(),
                flops / 1e9, seconds * 1e3, gf, 100 * gf / ceiling);
  return buf;
}

// Each row's share is against the larger of two ceilings: the best of 3 products timed right
// before the row and right after it. (With the one after alone, a burst of load from other
// machines' work during those 3 products put a conv row at 112% of a ceiling of 112 GFLOP/s.)
void kernels(const Args& a, bench::CeilingProbe& probe) {
  Generator gen(1);
  double before = probe.best_gflops(3);
  auto ceiling_around = [&] {
    const double after = probe.best_gflops(3), c = std::max(before, after);
    before = after;
    return c;
  };
  {
    Tensor x = uniform({2048, 2048}, -1, 1, gen), y = uniform({2048, 2048}, -1, 1, gen);
    const double s = bench::best_seconds(a.reps, [&] { matmul(x, y); });
    const double ceiling = ceiling_around();
    const double f = 2.0 * 2048 * 2048 * 2048;
    emit(a, rate_row("matmul", "matmul 2048^3", f, s, ceiling), rate_line("matmul 2048^3", f, s, ceiling));
  }
  const ConvLayer layers[] = {
      {"DCGAN conv0 3->64 k4 s2 p1 32x32", 3, 32, 64, 4, 2, 1},
      {"DCGAN conv1 64->128 k4 s2 p1 16x16", 64, 16, 128, 4, 2, 1},
      {"DCGAN conv2 128->256 k4 s2 p1 8x8", 128, 8, 256, 4, 2, 1},
      {"MNIST conv0 1->64 k5 s2 p2 28x28", 1, 28, 64, 5, 2, 2},
      {"MNIST conv1 64->128 k5 s2 p2 14x14", 64, 14, 128, 5, 2, 2},
  };
  double dcgan_flops = 0, dcgan_seconds = 0, dcgan_ceiling_work = 0;
  for (const auto& l : layers) {
    // As in the encoder: the first layer's images need no gradient (two products), the others
    // get forward, data and filter gradients (three).
    const bool first = l.c_in <= 3;
    Tensor x = uniform({a.batch, l.c_in, l.h, l.h}, -1, 1, gen);
    if (!first) x.set_requires_grad();
    Tensor w = uniform({l.c_out, l.c_in, l.k, l.k}, -0.1, 0.1, gen).set_requires_grad();
    const int64_t ho = (l.h + 2 * l.pad - l.k) / l.stride + 1;
    const double flops = (first ? 2 : 3) * 2.0 * a.batch * l.c_out * ho * ho * l.c_in * l.k * l.k;
    Tensor seed = Tensor::full({a.batch, l.c_out, ho, ho}, 1.0);
    // At least as long a window as the ceiling's 3 products (~0.25 s), however short the layer.
    const double s = bench::best_seconds_over(a.reps, 0.25, [&] {
      conv2d(x, w, {}, l.stride, l.pad).backward(seed);
      x.zero_grad();
      w.zero_grad();
    });
    const double ceiling = ceiling_around();
    const std::string name = std::string(l.name) + (first ? " fwd+bwd-filter" : " fwd+bwd");
    // Which kernel ran each pass (conv_library.h), so that a row says what it measured.
    const ConvGeometry g{a.batch, l.c_in, l.h, l.h, l.c_out, l.k, l.k, l.stride, l.pad, ho, ho};
    std::string kernels = std::string("fwd ") + cpu::conv_kernel_name(cpu::conv_kernel(g, cpu::ConvPass::forward)) +
                          ", filter " + cpu::conv_kernel_name(cpu::conv_kernel(g, cpu::ConvPass::backward_filter));
    if (!first) kernels += std::string(", data ") + cpu::conv_kernel_name(cpu::conv_kernel(g, cpu::ConvPass::backward_data));
    nlohmann::json row = rate_row("conv", name, flops, s, ceiling);
    row["kernels"] = kernels;
    emit(a, row, rate_line(name, flops, s, ceiling) + "  (" + kernels + ")");
    if (std::string(l.name).rfind("DCGAN", 0) == 0)
      dcgan_flops += flops, dcgan_seconds += s, dcgan_ceiling_work += s * ceiling;
  }
  // The total's ceiling weighs each layer's by its time: the share is all FLOPs over what the
  // ceiling would have done in the layers' times.
  const std::string total = "DCGAN encoder convs, total";
  const double ceiling = dcgan_ceiling_work / dcgan_seconds;
  emit(a, rate_row("conv", total, dcgan_flops, dcgan_seconds, ceiling),
       rate_line(total, dcgan_flops, dcgan_seconds, ceiling));
}

// One DIM(L) training step of the model dim-train trains: encoder, dot critic, MI loss (fused
// forward+backward), Adam; the prior term is off so that the step is the FLOP count's.
void training_step(const Args& a, const std::string& arch, int64_t units, mi::Estimator e,
                   bench::CeilingProbe& probe) {
  models::DimConfig config;
  config.arch = arch;
  config.mi_units = units;
  config.estimator = e;
  config.gamma = 0;
  models::DeepInfoMax model(config);
  Adam opt(model.encoder_parameters(), 1e-4, 0.5, 0.999);
  const auto& spec = model.encoder().spec();
  Generator g(7);
  Tensor x = uniform({a.batch, spec.channels, spec.size, spec.size}, -1, 1, g);
  Backend& cpu = cpu_backend();
  OpProfile profile;  // filled only while installed, around the timed steps
  MemoryStats step_stats;
  std::vector<double> times, forward_ms, backward_ms, optimizer_ms, ceilings;
  auto step = [&] {
    cpu.reset_peak_memory();
    const double t0 = bench::seconds_now();
    opt.zero_grad();
    profile.mark();
    const Tensor loss = model.encoder_loss(x, 0).objective.total();
    const double t1 = bench::seconds_now();
    loss.backward();
    const double t2 = bench::seconds_now();
    opt.step();
    const double t3 = bench::seconds_now();
    step_stats = cpu.memory_stats();
    times.push_back((t3 - t0) * 1e3);
    forward_ms.push_back((t1 - t0) * 1e3);
    backward_ms.push_back((t2 - t1) * 1e3);
    optimizer_ms.push_back((t3 - t2) * 1e3);
  };
  step();  // warm-up: the caching allocator fills, OpenMP and OpenBLAS start their threads
  times.clear(), forward_ms.clear(), backward_ms.clear(), optimizer_ms.clear();
  const auto terms = bench::dim_l_step_flops(spec, a.batch, units);
  const double flops = bench::total_flops(terms);
  // Each timed step follows one ceiling product: its share is against that.
  OpProfile* const previous = set_op_profile(a.breakdown ? &profile : nullptr);
  std::vector<double> shares;
  for (int i = 0; i < a.step_reps; ++i) {
    ceilings.push_back(probe.gflops());
    step();
    shares.push_back(100 * flops / (times.back() * 1e-3) / 1e9 / ceilings.back());
  }
  set_op_profile(previous);
  const double ms = median(times);
  const double best = *std::min_element(times.begin(), times.end());
  const double gf = flops / (ms * 1e-3) / 1e9, ceiling = median(ceilings), share = median(shares);
  const double peak_mb = double(step_stats.peak_bytes) / 1e6;
  nlohmann::json row{{"kind", "step"},
                     {"arch", arch},
                     {"mi_units", units},
                     {"estimator", std::string(mi::estimator_name(e))},
                     {"batch", a.batch},
                     {"flops", flops},
                     {"ms", ms},
                     {"ms_best", best},
                     {"images_per_s", a.batch / (ms * 1e-3)},
                     {"gflops", gf},
                     {"pct_of_ceiling", share},
                     {"ceiling_gflops", ceiling},
                     {"ms_per_step", times},
                     {"ceiling_gflops_per_step", ceilings},
                     {"peak_mb", peak_mb},
                     {"allocations_per_step", step_stats.allocations},
                     {"system_allocations_per_step", step_stats.system_allocations}};
  nlohmann::json breakdown = nlohmann::json::object();
  for (const auto& t : terms) breakdown[t.what] = t.flops;
  row["flop_terms"] = breakdown;
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "  %-8s mi-units %4lld %-8s %7.2f GFLOP %8.1f ms (best %6.1f) %6.0f img/s %5.1f%% of ceiling"
                "  peak %7.1f MB  %lld allocs (%lld from the system)",
                arch.c_str(), (long long)units, std::string(mi::estimator_name(e)).c_str(), flops / 1e9, ms, best,
                a.batch / (ms * 1e-3), share, peak_mb, (long long)step_stats.allocations,
                (long long)step_stats.system_allocations);
  if (a.breakdown) {
    // Where the step's time goes: the phases (medians), and each pass by op (means).
    const auto per_op = [&](const std::map<std::string, OpProfile::Entry>& entries, const char* pass,
                            std::string& lines) {
      nlohmann::json by_op = nlohmann::json::object();
      std::vector<std::pair<double, std::string>> order;
      for (const auto& [op, e] : entries) {
        const double per_step = e.seconds * 1e3 / a.step_reps;
        by_op[op] = {{"ms_per_step", per_step}, {"calls_per_step", double(e.calls) / a.step_reps}};
        order.emplace_back(per_step, op);
      }
      std::sort(order.rbegin(), order.rend());
      char line[200];
      for (const auto& [per_step, op] : order) {
        std::snprintf(line, sizeof line, "\n      %-8s %-22s %7.2f ms/step", pass, op.c_str(), per_step);
        lines += line;
      }
      return by_op;
    };
    std::string lines = buf;
    char line[200];
    std::snprintf(line, sizeof line, "\n      forward + zero_grad %7.1f ms   backward %7.1f ms   optimizer %6.1f ms (medians)",
                  median(forward_ms), median(backward_ms), median(optimizer_ms));
    lines += line;
    const nlohmann::json forward_ops = per_op(profile.forward_by_op, "forward", lines);
    const nlohmann::json backward_rules = per_op(profile.backward_by_op, "backward", lines);
    row["breakdown"] = {{"forward_ms", median(forward_ms)},
                        {"backward_ms", median(backward_ms)},
                        {"optimizer_ms", median(optimizer_ms)},
                        {"forward_ops", forward_ops},
                        {"backward_rules", backward_rules}};
    emit(a, row, lines);
  } else {
    emit(a, row, buf);
  }
  // The next case has other sizes: hand this one's cached blocks back, so the process holds
  // only what the largest case needs.
  cpu.empty_cache();
}

void run_engine_bench(const Args& a) {
  if (a.reps < 1 || a.step_reps < 1) throw std::runtime_error("--reps and --step-reps must be >= 1");
  bench::CeilingProbe probe;
  const double ceiling = probe.best_gflops(a.reps);
  // Which libraries the engine's products and convolutions use (IMX_SGEMM, IMX_CONV).
  const std::string sgemm = blas::sgemm_library_name(blas::sgemm_library()),
                    conv = cpu::conv_library_name(cpu::conv_library());
  emit(a,
       {{"kind", "ceiling"},
        {"what", "sgemm 2048^3, the faster of OpenBLAS and oneDNN"},
        {"gflops", ceiling},
        {"sgemm_library", sgemm},
        {"conv_library", conv},
        {"have_onednn", blas::have_onednn()}},
       "ceiling: sgemm 2048^3 (the faster of OpenBLAS and oneDNN) = " + std::to_string(ceiling) +
           " GFLOP/s\nengine: IMX_SGEMM=" + sgemm + ", IMX_CONV=" + conv +
           (blas::have_onednn() ? " (oneDNN in this build)" : " (no oneDNN in this build)") + "\n");
  if (!a.skip_kernels) kernels(a, probe);
  if (!a.json)
    std::printf("\nDIM(L) training step, batch %lld: encoder + dot critic + MI loss + Adam. FLOPs: products only\n"
                "(convs fwd + filter grad + data grad except the first layer, linear layers x3, the MI loss's 3);\n"
                "median of %d steps after a warm-up, each step's share of the ceiling against one ceiling product\n"
                "timed just before it (median of the shares); peak = the most tensor memory live during the step.\n",
                (long long)a.batch, a.step_reps);
  for (const std::string& arch : a.archs)
    for (int64_t units : a.units)
      for (const std::string& name : a.estimators) training_step(a, arch, units, mi::parse_estimator(name), probe);
}

}  // namespace

namespace imx::bench {

void add_engine_subcommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "engine", "Engine CPU benchmarks: matmul at 2048^3, conv2d forward+backward at the DIM encoders' layer "
                "sizes, and whole DIM(L) training steps (images/s, share of the ceiling from an explicit FLOP "
                "count, peak memory), in float32, against the sgemm ceiling (the faster of OpenBLAS and "
                "oneDNN) measured in the same run.");
  auto a = std::make_shared<Args>();
  cmd->add_option("--reps", a->reps, "Timed repetitions of matmul and conv (best is reported; a conv layer repeats until its runs add up to 0.25 s, about the ceiling's 3 products)")->capture_default_str();
  cmd->add_option("--step-reps", a->step_reps, "Timed training steps per case (median is reported)")
      ->capture_default_str();
  cmd->add_option("--batch", a->batch, "Batch size for the conv layers and training steps")->capture_default_str();
  cmd->add_option("--arch", a->archs, "Encoders of the training steps")->delimiter(',')->capture_default_str();
  cmd->add_option("--mi-units", a->units, "Critic widths of the training steps")->delimiter(',')->capture_default_str();
  cmd->add_option("--estimator", a->estimators, "MI estimators of the training steps")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--steps-only", a->skip_kernels, "Only the training steps (skip matmul and conv)");
  cmd->add_flag("--breakdown", a->breakdown,
                "Also where each step's time goes: forward, backward and optimizer (medians); the "
                "forward pass by op (the time up to each op's output, since the previous op's); and "
                "the backward pass by op (the wall time of each op's gradient rules), per step");
  cmd->add_flag("--json", a->json, "One JSON object per line instead of the table");
  cmd->callback([a] { run_engine_bench(*a); });
}

}  // namespace imx::bench
