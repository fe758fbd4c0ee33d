// dim-train: trains a Deep InfoMax model (any objective of the paper) and reports probe accuracy
// each epoch.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "distributed/mpi_communicator.h"
#include "engine/runtime.h"
#include "imx/data/load.hpp"
#include "tools/train/errors.h"
#include "tools/train/trainer.h"

int main(int argc, char** argv) {
  imx::prefer_passive_openmp(argv);
  using namespace imx;
  train::Config c;
  c.data = data::kDefaultDataset;
  models::DimConfig& m = c.model;
  std::string estimator = "jsd", device = "cpu", preset = "dim-l", local_critic = "dot", global_critic = "dot";
  CLI::App app{
      "Trains a Deep InfoMax encoder: the local (DIM(L)) and/or global (DIM(G)) mutual-information "
      "objectives with dot-product or concat-and-convolve critics, prior matching with the "
      "discriminator's gradient penalty, and the coordinate-prediction and occlusion tasks. "
      "The encoder minimizes alpha*global + beta*local + gamma*prior + coord*coordinates. "
      "Classification probes on the frozen conv, fc and Y features train alongside; after every "
      "epoch their test accuracy is printed and appended to OUT/metrics.jsonl, and "
      "OUT/checkpoint.safetensors is written atomically."};
  app.add_option("--data", c.data, "Dataset as KIND:PATH (kinds: cifar10, cifar100, cifar100-coarse, "
                 "stl10, mnist, fashion-mnist, tinyimagenet, folder); STL-10 trains on train + unlabeled")
      ->capture_default_str();
  app.add_option("--arch", c.arch, "Encoder: mnist28, dcgan32, alexnet64, or auto (from the image size)")
      ->capture_default_str();
  app.add_option("--preset", preset,
                 "Objective weights: dim-l (alpha 0, beta 1, gamma 0.1), dim-g (alpha 1, beta 0, gamma 1), "
                 "dim-lg (alpha 0.5, beta 1, gamma 0.1); --alpha/--beta/--gamma override it")
      ->check(CLI::IsMember(models::preset_names()))->capture_default_str();
  auto* alpha = app.add_option("--alpha", m.alpha, "Global MI weight, DIM(G) (default: from --preset)");
  auto* beta = app.add_option("--beta", m.beta, "Local MI weight, DIM(L) (default: from --preset)");
  auto* gamma = app.add_option("--gamma", m.gamma, "Prior-matching weight; 0 = no discriminator (default: from --preset)");
  app.add_option("--estimator", estimator, "MI estimator: " + mi::estimator_names())->capture_default_str();
  auto* lc = app.add_option("--local-critic", local_critic, "Local critic: dot (encode and dot product) or "
                            "concat (concat-and-convolve, paper figure 3)")
                 ->check(CLI::IsMember({"dot", "concat"}))->capture_default_str();
  auto* gc = app.add_option("--global-critic", global_critic, "Global critic: dot (the authors' dot-product "
                            "version) or concat (the paper's: reduced map + Y, MLP 512-512-1)")
                 ->check(CLI::IsMember({"dot", "concat"}))->capture_default_str();
  app.add_option("--mi-units", m.mi_units, "Dot critics' feature width (the paper uses 2048)")->capture_default_str();
  app.add_option("--concat-units", m.concat_units, "Hidden width of the concat critics and the coordinate head")
      ->capture_default_str();
  auto* negatives = app.add_option("--concat-negatives", m.concat_negatives,
                 "Concat local critic: negative images per image (the batch is scored in groups of N+1); "
                 "0 = every other image of the batch")->capture_default_str();
  auto* penalty = app.add_option("--penalty", m.penalty, "Weight of the discriminator's gradient penalty "
                                 "(squared norm of dD/dinput, at prior and encoded samples)")->capture_default_str();
  app.add_flag("--coord{1}", m.coord, "Coordinate prediction (paper Table 5) with weight 1, or --coord=W; "
               "0 = off (default)");
  app.add_flag("--occlude", m.occlude, "Occlusion (paper Table 5): Y from an input with a random square hidden "
               "(p 0.5, half the image side, fill 0), local features from the full input");
  app.add_option("--epochs", c.epochs, "Epochs to train in total (a resumed run continues up to it)")
      ->capture_default_str();
  app.add_option("--batch", c.batch, "Batch size (per rank under mpirun: the global batch is --batch x ranks)")
      ->capture_default_str();
  app.add_option("--negatives", c.negatives,
                 "Under mpirun: the negatives of the dot critics' MI loss. ring (the whole global batch; "
                 "local-feature blocks passed around the ranks, O(batch) memory per rank; CPU), gather (the "
                 "whole global batch; every rank gathers all features; any device), local (each rank's own "
                 "batch, plain data parallelism), auto (ring on cpu, gather on cuda)")
      ->check(CLI::IsMember({"auto", "ring", "gather", "local"}))->capture_default_str();
  app.add_flag("--sync-bn", c.sync_bn, "Under mpirun: batch norm with the statistics of the whole global batch "
               "(synchronized over the ranks) instead of each rank's own batch (the reference's multi-GPU default)");
  double collective_timeout = 300;
  app.add_option("--collective-timeout", collective_timeout,
                 "Under mpirun: seconds a rank waits in one exchange with the others before it ends the job "
                 "(exit 5; a rank died, hangs or is far behind)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--lr", c.lr, "Adam learning rate of encoder, critics and discriminator")->capture_default_str();
  app.add_option("--beta1", c.beta1, "Adam beta1")->capture_default_str();
  app.add_option("--beta2", c.beta2, "Adam beta2")->capture_default_str();
  app.add_option("--probe-lr", c.probe_lr, "Adam learning rate of the probes")->capture_default_str();
  app.add_option("--probe-milestones", c.probe_milestones, "Epochs at which the probe rate is divided by 10")
      ->capture_default_str();
  app.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  app.add_option("--seed", c.seed, "Seed of initialization, shuffling, dropout, prior samples and occlusion")
      ->capture_default_str();
  app.add_option("--out", c.out_dir, "Output folder (checkpoint, metrics)")->capture_default_str();
  app.add_flag("--resume", c.resume, "Continue from OUT/checkpoint.safetensors, exactly where it stopped (its "
               "settings must match; --epochs may grow)");
  app.add_flag("--overwrite", c.overwrite, "Replace the files of another run in OUT (otherwise refused)");
  app.add_option("--checkpoint-every", c.checkpoint_every, "Steps between mid-epoch checkpoints (0 = at epoch ends "
                 "only); every epoch end writes one too")->capture_default_str();
  app.add_option("--step-log", c.step_log, "Steps between lines of OUT/steps.jsonl (each loss term, lr, wall time; "
                 "0 = no step log)")->capture_default_str();
  bool no_plot = false;
  app.add_flag("--no-plot", no_plot, "Do not draw OUT/training.png (loss terms and probe accuracies, by gnuplot)");
  app.add_option("--limit-train", c.limit_train, "Use only the first N training images (0 = all)")
      ->capture_default_str();
  app.add_option("--limit-test", c.limit_test, "Use only the first N test images (0 = all)")->capture_default_str();
  app.add_option("--workers", c.workers, "Input-pipeline threads")->capture_default_str();
  app.add_option("--progress-seconds", c.progress_seconds, "Seconds between progress lines")
      ->capture_default_str();
  app.footer(
      "Outputs in OUT: checkpoint.safetensors (atomic; weights, optimizer state, random streams, position), "
      "metrics.jsonl (one line per epoch), steps.jsonl (--step-log), training.png.\n"
      "SIGINT/SIGTERM finish the current step, write the checkpoint, print how to resume, and exit 130/143.\n"
      "Exit status: 0 success; 1 other failure (e.g. disk full); 2 usage (bad flag or value, occupied --out, "
      "resume with other settings); 3 bad input (data set or checkpoint missing, truncated or corrupt); "
      "4 diverged (a loss term became NaN or infinite); 5 an exchange between ranks timed out "
      "(--collective-timeout); 130/143 stopped by SIGINT/SIGTERM.\n"
      "Data-parallel: mpirun -np N dim-train ... runs N ranks (processes; one GPU each with --device cuda), "
      "each training on its share of every global batch of N x --batch images; rank 0 alone writes OUT and prints.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : train::kExitUsage;
  }
  c.plot = !no_plot;

  try {
    // The preset sets the weights the user did not give.
    models::DimConfig weights;
    models::apply_preset(weights, preset);
    if (!*alpha) m.alpha = weights.alpha;
    if (!*beta) m.beta = weights.beta;
    if (!*gamma) m.gamma = weights.gamma;
    try {
      m.estimator = mi::parse_estimator(estimator);
    } catch (const std::exception& e) {
      throw train::UsageError(std::string("--estimator: ") + e.what());
    }
    m.local_critic = models::parse_local_critic(local_critic);
    m.global_critic = models::parse_global_critic(global_critic);
    // Flags that would be silently ignored are refused, naming both sides.
    using train::UsageError;
    if (*lc && m.beta == 0) throw UsageError("--local-critic has no effect: the local objective is off (--beta 0 / --preset dim-g)");
    if (*gc && m.alpha == 0) throw UsageError("--global-critic has no effect: the global objective is off (--alpha 0)");
    if (*penalty && m.gamma == 0) throw UsageError("--penalty has no effect: the prior term is off (--gamma 0)");
    if (*negatives && m.local_critic != models::LocalCritic::concat)
      throw UsageError("--concat-negatives applies to --local-critic concat only");
    c.device = device == "cuda" ? Device::CUDA : Device::CPU;
    const auto group = dist::Group::create(c.device, collective_timeout);
    c.group = group.get();
    imx::share_cores_between_local_ranks(group->local_size());
    const auto results = train::run(c);
    if (!results.empty()) {
      const auto& r = results.back();
      std::printf("probe accuracy (test, epoch %lld): conv %.2f%%  fc %.2f%%  y %.2f%%\n",
                  static_cast<long long>(r.epoch), 100 * r.acc_conv, 100 * r.acc_fc, 100 * r.acc_y);
    }
  } catch (const train::Interrupted& e) {
    std::string again;
    for (int i = 0; i < argc; ++i) again += std::string(i ? " " : "") + argv[i];
    if (again.find("--resume") == std::string::npos) again += " --resume";
    std::fprintf(stderr, "dim-train: %s\nresume with: %s\n", e.what(), again.c_str());
    return train::exit_status(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dim-train: error: %s\n", e.what());
    return train::exit_status(e);
  }
  return train::kExitOk;
}
