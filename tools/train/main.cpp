// dim-train: trains a Deep InfoMax encoder and reports linear-probe accuracy each epoch.
#include <CLI/CLI.hpp>

#include "engine/runtime.h"
#include <cstdio>

#include "imx/data/load.hpp"
#include "tools/train/trainer.h"

int main(int argc, char** argv) {
  imx::prefer_passive_openmp(argv);
  using namespace imx;
  train::Config c;
  c.data = data::kDefaultDataset;
  std::string estimator = "jsd", device = "cpu";
  CLI::App app{
      "Trains a Deep InfoMax encoder (local objective, DIM(L)) with a dot-product critic and an "
      "optional prior discriminator, while classification probes on the frozen conv, fc and Y "
      "features train alongside. After every epoch the probes' test accuracy is printed and "
      "appended to OUT/metrics.jsonl, and OUT/checkpoint.safetensors is written atomically."};
  app.add_option("--data", c.data, "Dataset as KIND:PATH (kinds: cifar10, cifar100, cifar100-coarse, "
                 "stl10, mnist, fashion-mnist, tinyimagenet, folder)")->capture_default_str();
  app.add_option("--arch", c.arch, "Encoder: mnist28, dcgan32, alexnet64, or auto (from the image size)")
      ->capture_default_str();
  app.add_option("--estimator", estimator, "MI estimator: " + mi::estimator_names())->capture_default_str();
  app.add_option("--alpha", c.alpha, "DIM(G) weight (not implemented: must be 0)")->capture_default_str();
  app.add_option("--beta", c.beta, "DIM(L) weight")->capture_default_str();
  app.add_option("--gamma", c.gamma, "Prior-matching weight (0 = no discriminator)")->capture_default_str();
  app.add_option("--mi-units", c.mi_units, "Critic feature width (the paper uses 2048)")->capture_default_str();
  app.add_option("--epochs", c.epochs, "Epochs to train in total (a resumed run continues up to it)")
      ->capture_default_str();
  app.add_option("--batch", c.batch, "Batch size")->capture_default_str();
  app.add_option("--lr", c.lr, "Adam learning rate of encoder, critic and discriminator")->capture_default_str();
  app.add_option("--beta1", c.beta1, "Adam beta1")->capture_default_str();
  app.add_option("--beta2", c.beta2, "Adam beta2")->capture_default_str();
  app.add_option("--probe-lr", c.probe_lr, "Adam learning rate of the probes")->capture_default_str();
  app.add_option("--probe-milestones", c.probe_milestones, "Epochs at which the probe rate is divided by 10")
      ->capture_default_str();
  app.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  app.add_option("--seed", c.seed, "Seed of initialization, shuffling and dropout")->capture_default_str();
  app.add_option("--out", c.out_dir, "Output folder (checkpoint, metrics)")->capture_default_str();
  app.add_flag("--resume", c.resume, "Continue from OUT/checkpoint.safetensors");
  app.add_option("--limit-train", c.limit_train, "Use only the first N training images (0 = all)")
      ->capture_default_str();
  app.add_option("--limit-test", c.limit_test, "Use only the first N test images (0 = all)")->capture_default_str();
  app.add_option("--workers", c.workers, "Input-pipeline threads")->capture_default_str();
  app.add_option("--progress-seconds", c.progress_seconds, "Seconds between progress lines")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    c.estimator = mi::parse_estimator(estimator);
    c.device = device == "cuda" ? Device::CUDA : Device::CPU;
    const auto results = train::run(c);
    if (!results.empty()) {
      const auto& r = results.back();
      std::printf("probe accuracy (test, epoch %lld): conv %.2f%%  fc %.2f%%  y %.2f%%\n",
                  static_cast<long long>(r.epoch), 100 * r.acc_conv, 100 * r.acc_fc, 100 * r.acc_y);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dim-train: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
