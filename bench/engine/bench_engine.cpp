// `dim-bench engine`: the engine's matrix product, conv2d (forward + backward) at the DIM
// encoders' layer sizes and whole DIM(L) training steps on the CPU, as GFLOP/s beside the
// OpenBLAS sgemm ceiling measured in the same run.
#include <cstdio>
#include <memory>

#include "bench/common/subcommands.h"
#include "bench/common/timing.h"
#include "engine/backend.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/random.h"
#include "losses/dim/dim_losses.h"
#include "models/critics.h"
#include "models/encoder.h"

using namespace imx;

namespace {

struct ConvLayer {
  const char* name;
  int64_t n, c_in, h, c_out, k, stride, pad;
};

void report(const char* what, double flops, double seconds, double ceiling) {
  const double gf = flops / seconds / 1e9;
  std::printf("%-44s %10.2f ms %9.1f GFLOP/s %6.1f%% of ceiling\n", what, seconds * 1e3, gf,
              100 * gf / ceiling);
}


void run_engine_bench(int reps, int64_t batch) {
  const double ceiling = bench::sgemm_ceiling_gflops(0, 2048, reps);
  std::printf("ceiling: OpenBLAS sgemm 2048^3 = %.1f GFLOP/s\n\n", ceiling);

  Generator gen(1);
  {
    Tensor a = uniform({2048, 2048}, -1, 1, gen), b = uniform({2048, 2048}, -1, 1, gen);
    const double s = bench::best_seconds(reps, [&] { matmul(a, b); });
    report("matmul 2048^3", 2.0 * 2048 * 2048 * 2048, s, ceiling);
  }

  const ConvLayer layers[] = {
      {"DCGAN conv0 3->64 k4 s2 p1 32x32", batch, 3, 32, 64, 4, 2, 1},
      {"DCGAN conv1 64->128 k4 s2 p1 16x16", batch, 64, 16, 128, 4, 2, 1},
      {"DCGAN conv2 128->256 k4 s2 p1 8x8", batch, 128, 8, 256, 4, 2, 1},
      {"MNIST conv0 1->64 k5 s2 p2 28x28", batch, 1, 28, 64, 5, 2, 2},
      {"MNIST conv1 64->128 k5 s2 p2 14x14", batch, 64, 14, 128, 5, 2, 2},
  };
  double dcgan_flops = 0, dcgan_seconds = 0;
  for (const auto& l : layers) {
    Tensor x = uniform({l.n, l.c_in, l.h, l.h}, -1, 1, gen).set_requires_grad();
    Tensor w = uniform({l.c_out, l.c_in, l.k, l.k}, -0.1, 0.1, gen).set_requires_grad();
    const int64_t ho = (l.h + 2 * l.pad - l.k) / l.stride + 1;
    // forward, backward-data and backward-filter are each one product of this size
    const double flops = 3 * 2.0 * l.n * l.c_out * ho * ho * l.c_in * l.k * l.k;
    Tensor seed = Tensor::full({l.n, l.c_out, ho, ho}, 1.0);
    const double s = bench::best_seconds(reps, [&] {
      conv2d(x, w, {}, l.stride, l.pad).backward(seed);
      x.zero_grad();
      w.zero_grad();
    });
    char name[96];
    std::snprintf(name, sizeof name, "%s fwd+bwd", l.name);
    report(name, flops, s, ceiling);
    if (std::string(l.name).rfind("DCGAN", 0) == 0) dcgan_flops += flops, dcgan_seconds += s;
  }
  std::printf("\n");
  report("DCGAN encoder convs (batch) fwd+bwd, total", dcgan_flops, dcgan_seconds, ceiling);

  // Whole DIM(L) training steps (encoder + dot critic + JSD MI loss + Adam), the rate the input
  // pipeline must outpace (compare with dim-bench-data's images/s).
  std::printf("\nDIM(L) training step, batch %lld (images/s the trainer consumes):\n",
              static_cast<long long>(batch));
  for (const char* arch : {"mnist28", "dcgan32"})
    for (int64_t units : {int64_t(512), int64_t(2048)}) {
      Generator g(7);
      models::Encoder enc(models::encoder_spec(arch), g);
      models::DotCritic critic(enc.local_channels(), 64, units, g);
      std::vector<Tensor> params = enc.parameters();
      for (auto& p : critic.parameters()) params.push_back(p);
      Adam opt(params, 1e-4, 0.5, 0.999);
      const auto& spec = enc.spec();
      Tensor x = uniform({batch, spec.channels, spec.size, spec.size}, -1, 1, g);
      const double s = bench::best_seconds(std::max(1, reps / 2), [&] {
        opt.zero_grad();
        auto out = enc.forward(x);
        mi_loss(critic.encode_local(out.local), critic.encode_global(out.y), mi::Estimator::jsd)
            .backward();
        opt.step();
      });
      std::printf("  %-8s mi-units %5lld: %8.1f ms/step %8.0f images/s\n", arch,
                  static_cast<long long>(units), s * 1e3, batch / s);
    }
}

}  // namespace

namespace imx::bench {

void add_engine_subcommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "engine", "Engine CPU benchmarks: matmul at 2048^3, conv2d forward+backward at the DIM "
                "encoders' layer sizes, and whole DIM(L) training steps, in float32, against the "
                "OpenBLAS sgemm ceiling measured in the same run.");
  auto reps = std::make_shared<int>(20);  // steady state takes a few runs (heap, threads)
  auto batch = std::make_shared<int64_t>(64);
  cmd->add_option("--reps", *reps, "Timed repetitions (best is reported)")->capture_default_str();
  cmd->add_option("--batch", *batch, "Batch size for the conv layers and training steps")
      ->capture_default_str();
  cmd->callback([reps, batch] { run_engine_bench(*reps, *batch); });
}

}  // namespace imx::bench
