// dim-eval: classification probes trained on the frozen features of a dim-train checkpoint.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>
#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/runtime.h"
#include "imx/data/load.hpp"
#include "imx/data/loader.hpp"
#include "models/critics.h"
#include "models/deep_infomax.h"
#include "tools/train/progress.h"
#include "tools/train/trainer.h"

using namespace imx;

namespace {

struct Features {
  Tensor conv, fc, y;  // [N, F] each, on the CPU
  std::vector<int32_t> labels;
};

// Runs the frozen encoder over a whole split (eval mode, no graph).
Features extract(models::Encoder& enc, const data::Dataset& d, int64_t size_hint, Device dev) {
  data::LoaderOptions o;
  o.batch_size = 256;
  o.shuffle = false;
  o.drop_last = false;
  if (d.height == 96 && size_hint == 64) o.augment.resize_to = 64;
  data::Loader loader(d, o);
  NoGrad no_grad;
  std::vector<Tensor> conv, fc, y;
  Features f;
  tools::Progress progress("features " + d.name, static_cast<long>(loader.batches_per_epoch()));
  long done = 0;
  double images = 0;
  while (auto b = loader.next()) {
    Tensor x = Tensor::empty({b->n, b->c, b->h, b->w});
    std::memcpy(x.raw(), b->images.data(), x.nbytes());
    auto out = enc.forward(x.to(dev));
    conv.push_back(flatten(out.conv).to(Device::CPU));
    fc.push_back(out.fc.to(Device::CPU));
    y.push_back(out.y.to(Device::CPU));
    f.labels.insert(f.labels.end(), b->labels.begin(), b->labels.end());
    images += b->n;
    progress.update(++done, images);
  }
  f.conv = concat(conv, 0);
  f.fc = concat(fc, 0);
  f.y = concat(y, 0);
  return f;
}

Tensor rows(const Tensor& x, const std::vector<uint32_t>& idx, size_t begin, size_t end) {
  const int64_t width = x.size(1);
  Tensor out = Tensor::empty({static_cast<int64_t>(end - begin), width});
  for (size_t i = begin; i < end; ++i)
    std::memcpy(out.data<float>() + (i - begin) * width, x.data<float>() + idx[i] * width,
                width * sizeof(float));
  return out;
}

// Trains one probe on train features; returns test accuracy.
double probe_accuracy(const Tensor& train_x, const std::vector<int32_t>& train_y, const Tensor& test_x,
                      const std::vector<int32_t>& test_y, int64_t classes, int64_t epochs,
                      double lr, uint64_t seed, Device dev) {
  Generator gen(seed);
  models::Probe probe(train_x.size(1), classes, gen, seed + 1);
  probe.to(dev);
  Adam opt(probe.parameters(), lr);
  std::vector<uint32_t> order(train_y.size());
  std::mt19937_64 rng(seed);
  for (int64_t e = 0; e < epochs; ++e) {
    probe.train();
    std::iota(order.begin(), order.end(), 0u);
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t b = 0; b + 64 <= order.size(); b += 64) {
      std::vector<int32_t> labels(64);
      for (size_t i = 0; i < 64; ++i) labels[i] = train_y[order[b + i]];
      opt.zero_grad();
      cross_entropy(probe.forward(rows(train_x, order, b, b + 64).to(dev)), labels).backward();
      opt.step();
    }
  }
  probe.eval();
  NoGrad no_grad;
  const std::vector<double> logits = probe.forward(test_x.to(dev)).to_vector();
  int64_t hits = 0;
  for (size_t i = 0; i < test_y.size(); ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < classes; ++j)
      if (logits[i * classes + j] > logits[i * classes + best]) best = j;
    hits += best == test_y[i];
  }
  return static_cast<double>(hits) / static_cast<double>(test_y.size());
}

}  // namespace

int main(int argc, char** argv) {
  prefer_passive_openmp(argv);
  std::string checkpoint, data_spec, device = "cpu", json_out;
  int64_t epochs = 10, limit_train = 0, limit_test = 0;
  double lr = 1e-3;
  uint64_t seed = 1;
  CLI::App app{"Trains fresh classification probes (linear 200, dropout, BN, ReLU, linear) on "
               "the frozen conv, fc and Y features of a dim-train checkpoint, and prints their "
               "test accuracy."};
  app.add_option("checkpoint", checkpoint, "A dim-train checkpoint (OUT/checkpoint.safetensors)")->required();
  app.add_option("--data", data_spec, "Dataset as KIND:PATH (default: the one it was trained on)");
  app.add_option("--epochs", epochs, "Probe training epochs")->capture_default_str();
  app.add_option("--lr", lr, "Probe Adam learning rate")->capture_default_str();
  app.add_option("--seed", seed, "Seed of the probes")->capture_default_str();
  app.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  app.add_option("--limit-train", limit_train, "Use only the first N training images (0 = all)")
      ->capture_default_str();
  app.add_option("--limit-test", limit_test, "Use only the first N test images (0 = all)")->capture_default_str();
  app.add_option("--json", json_out, "Also write the accuracies to this JSON file");
  CLI11_PARSE(app, argc, argv);
  try {
    const Device dev = device == "cuda" ? Device::CUDA : Device::CPU;
    const auto model = models::DeepInfoMax::load(checkpoint, dev);
    models::Encoder& encoder = model->encoder();
    const train::CheckpointInfo info = train::checkpoint_info(checkpoint);
    if (data_spec.empty()) data_spec = info.data;
    data::LoadOptions lo;
    lo.load_unlabeled = false;
    const data::Splits splits = data::load_dataset(data_spec, lo);
    const int64_t classes = static_cast<int64_t>(splits.train.class_names.size());
    const int64_t size = encoder.spec().size;
    const Features tr = extract(encoder, train::first_images(splits.train, limit_train), size, dev);
    const Features te = extract(encoder, train::first_images(splits.test, limit_test), size, dev);
    nlohmann::json result{{"checkpoint", checkpoint}, {"data", data_spec}, {"encoder_epoch", info.epoch}};
    std::printf("%-6s %10s %10s\n", "input", "features", "test acc");
    for (auto [name, a, b] : {std::tuple{"conv", &tr.conv, &te.conv}, std::tuple{"fc", &tr.fc, &te.fc},
                              std::tuple{"y", &tr.y, &te.y}}) {
      const double acc = probe_accuracy(*a, tr.labels, *b, te.labels, classes, epochs, lr, seed, dev);
      std::printf("%-6s %10lld %9.2f%%\n", name, static_cast<long long>(a->size(1)), 100 * acc);
      result[name] = acc;
    }
    if (!json_out.empty()) {
      std::ofstream out(json_out);
      out << result.dump(2) << "\n";
      if (!out) throw Error(json_out + ": cannot write");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dim-eval: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
