// The untrained baselines: the random-init model has exactly the weights the trained run
// started from (not the trained ones), and estimating BN statistics touches no weight and gives
// the average of the batch statistics, checked against the first layer computed by hand.
#include <catch.hpp>
#include <filesystem>

#include "engine/autograd.h"
#include "engine/optim.h"
#include "evaluation/baselines.h"
#include "evaluation/batch_norm_stats.h"
#include "evaluation/batches.h"

using namespace imx;
using namespace imx::eval;

namespace {

models::DimConfig small_config() {
  models::DimConfig c;
  c.mi_units = 32;
  c.gamma = 0;
  c.seed = 5;
  return c;
}

// Random 28×28 gray images with labels 0..9.
data::Dataset random_images(size_t n, uint64_t seed) {
  data::Dataset d;
  d.name = "random images";
  d.channels = 1;
  d.height = d.width = 28;
  d.class_names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n * 28 * 28; ++i) d.pixels.push_back(static_cast<uint8_t>(rng() & 0xff));
  for (size_t i = 0; i < n; ++i) d.labels.push_back(static_cast<int32_t>(i % 10));
  return d;
}

bool same_values(const nn::Named& a, const nn::Named& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].first == b[i].first);
    if (a[i].second.to_vector() != b[i].second.to_vector()) return false;
  }
  return true;
}

bool all_differ(const nn::Named& a, const nn::Named& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].second.to_vector() == b[i].second.to_vector()) return false;
  return true;
}

// A few DIM steps on random images, saved and loaded as dim-eval loads a checkpoint.
std::shared_ptr<models::DeepInfoMax> trained_model(const std::string& path) {
  models::DeepInfoMax model(small_config());
  Adam opt(model.encoder_parameters(), 1e-3);
  const data::Dataset d = random_images(64, 1);
  BatchOptions o;
  o.batch = 32;
  uint64_t step = 0;
  for_each_batch(d, o, [&](const Tensor& x, const std::vector<int32_t>&) {
    opt.zero_grad();
    model.encoder_loss(x, step++).objective.total().backward();
    opt.step();
  });
  TensorFile f;
  model.save_to(f);
  save_safetensors(path, f);
  return models::DeepInfoMax::load(path);
}

}  // namespace

TEST_CASE("the random-init baseline has a fresh model's weights, not the trained ones", "[eval][baselines]") {
  const std::string path = (std::filesystem::temp_directory_path() / "imx_eval_baseline.safetensors").string();
  const auto trained = trained_model(path);
  const auto baseline = untrained_copy(*trained, Device::CPU);
  const models::DeepInfoMax fresh(small_config());
  CHECK(same_values(baseline->encoder().named_parameters(), fresh.encoder().named_parameters()));
  CHECK(same_values(baseline->encoder().named_buffers(), fresh.encoder().named_buffers()));
  CHECK(all_differ(baseline->encoder().named_parameters(), trained->encoder().named_parameters()));
  CHECK_FALSE(baseline->encoder().training());
  std::filesystem::remove(path);
}

TEST_CASE("estimated BN statistics are batch averages and leave the weights untouched", "[eval][baselines]") {
  models::DeepInfoMax model(small_config());
  models::Encoder& enc = model.encoder();
  const nn::Named before = enc.named_parameters();
  std::vector<std::vector<double>> weights;
  for (const auto& [name, t] : before) weights.push_back(t.to_vector());
  const data::Dataset d = random_images(64 * 3 + 10, 2);  // three full batches and a dropped partial one
  BatchOptions o;
  o.batch = 64;
  CHECK(estimate_batch_norm_statistics(enc, d, o) == 3);
  CHECK_FALSE(enc.training());
  for (size_t i = 0; i < before.size(); ++i) CHECK(before[i].second.to_vector() == weights[i]);

  // The first BN normalizes conv0's output (no bias): its running mean must be the mean over
  // the three batches of each batch's channel means.
  Tensor w;
  Tensor running_mean;
  for (const auto& [name, t] : enc.named_parameters())
    if (name == "conv0.conv.weight") w = t;
  for (const auto& [name, t] : enc.named_buffers())
    if (name == "conv0.bn.running_mean") running_mean = t;
  REQUIRE(w.defined());
  REQUIRE(running_mean.defined());
  const auto& spec = enc.spec().convs[0];
  std::vector<double> expected(static_cast<size_t>(spec.out), 0.0);
  NoGrad no_grad;
  BatchOptions in_order = o;
  in_order.drop_last = true;
  for_each_batch(d, in_order, [&](const Tensor& x, const std::vector<int32_t>&) {
    const std::vector<double> m = mean(conv2d(x, w, {}, spec.stride, spec.pad), {0, 2, 3}).to_vector();
    for (size_t c = 0; c < m.size(); ++c) expected[c] += m[c] / 3.0;
  });
  const std::vector<double> got = running_mean.to_vector();
  for (size_t c = 0; c < expected.size(); ++c) CHECK(got[c] == Approx(expected[c]).margin(1e-5));
}
