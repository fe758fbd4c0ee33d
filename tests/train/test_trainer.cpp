// dim-train end to end on a small slice of the real Fashion-MNIST: it learns, writes metrics,
// a step log and atomic checkpoints, is reproducible bit for bit at 2 threads, resumes from a
// mid-epoch stop (a real SIGINT) to the same weights as an uninterrupted run, and refuses
// occupied folders, other settings and damaged checkpoints with errors that name them.
#include <omp.h>

#include <catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/safetensors.h"
#include "imx/data/load.hpp"
#include "models/deep_infomax.h"
#include "tools/train/errors.h"
#include "tools/train/trainer.h"

using namespace imx;
namespace fs = std::filesystem;

namespace {

bool have_fashion_mnist() {
  return fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

std::string fresh_dir(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("imx_train_" + name)).string();
  fs::remove_all(d);
  return d;
}

// 640 images: 10 steps of 64 per epoch.
train::Config small_config(const std::string& out) {
  train::Config c;
  c.data = data::kDefaultDataset;
  c.epochs = 1;
  c.limit_train = 640;
  c.limit_test = 512;
  c.model.mi_units = 64;
  c.batch = 64;
  c.lr = 1e-3;
  c.probe_lr = 1e-3;
  c.out_dir = out;
  c.progress_seconds = 1e9;
  c.plot = false;
  return c;
}

// Every tensor of two checkpoints, bit for bit (the optimizer moments included).
void require_identical_checkpoints(const std::string& a, const std::string& b) {
  const TensorFile fa = load_safetensors(a), fb = load_safetensors(b);
  REQUIRE(fa.tensors.size() == fb.tensors.size());
  size_t differing = 0;
  for (const auto& [name, t] : fa.tensors) {
    const Tensor* u = fb.find(name);
    REQUIRE(u != nullptr);
    if (t.to_vector() != u->to_vector()) ++differing;
  }
  CHECK(differing == 0);
  CHECK(fa.metadata.at("rng.probe_y.dropout.rng") == fb.metadata.at("rng.probe_y.dropout.rng"));
}

// metrics.jsonl without its timing fields.
std::vector<std::string> metrics_without_timing(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in(dir + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("wall_seconds");
    j.erase("images_per_second");
    out.push_back(j.dump());
  }
  return out;
}

}  // namespace

TEST_CASE("dim-train learns, checkpoints and resumes on Fashion-MNIST", "[train]") {
  if (!have_fashion_mnist()) {
    WARN("Fashion-MNIST is not installed (setup.sh installs dataset-fashion-mnist); not run");
    CHECK_THROWS(train::run(small_config("/tmp/imx_no_data")));  // and the error is clean
    return;
  }
  const std::string out = fresh_dir("learn");
  train::Config c = small_config(out);
  c.limit_train = 1024;
  const auto first = train::run(c);
  REQUIRE(first.size() == 1);
  // 10 classes: chance is 10%. The conv-feature probe on a partly trained encoder does far better.
  CHECK(first[0].acc_conv > 0.5);
  CHECK(std::isfinite(first[0].terms.at("local")));
  CHECK(first[0].terms.count("disc") == 1);  // the default gamma 0.1 trains the discriminator
  CHECK(first[0].last_loss < first[0].first_loss);
  CHECK(fs::exists(train::checkpoint_path(out)));

  c.epochs = 2;
  c.resume = true;
  const auto second = train::run(c);
  REQUIRE(second.size() == 1);
  CHECK(second[0].epoch == 2);
  CHECK(metrics_without_timing(out).size() == 2);
  std::ifstream steps(out + "/steps.jsonl");
  int lines = 0;
  for (std::string line; std::getline(steps, line);) ++lines;
  CHECK(lines == 4);  // 32 steps, one line every 10

  // dim-eval rebuilds the whole model from the checkpoint alone.
  const auto model = models::DeepInfoMax::load(train::checkpoint_path(out));
  const auto info = train::checkpoint_info(train::checkpoint_path(out));
  CHECK(info.epoch == 2);
  CHECK(info.data == c.data);
  const TensorFile file = load_safetensors(train::checkpoint_path(out));
  for (auto& [name, p] : model->named_parameters()) CHECK(p.to_vector() == file.find(name)->to_vector());
  CHECK(model->encoder().forward(Tensor::zeros({2, 1, 28, 28})).y.shape() == Shape{2, 64});
  fs::remove_all(out);
}

TEST_CASE("two identical runs at 2 threads give bit-identical weights", "[train][repro]") {
  if (!have_fashion_mnist()) return;
  omp_set_num_threads(2);
  const std::string a = fresh_dir("repro_a"), b = fresh_dir("repro_b");
  train::run(small_config(a));
  train::run(small_config(b));
  require_identical_checkpoints(train::checkpoint_path(a), train::checkpoint_path(b));
  CHECK(metrics_without_timing(a) == metrics_without_timing(b));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("a run stopped by SIGINT mid-epoch resumes to the weights of an uninterrupted run", "[train][resume]") {
  if (!have_fashion_mnist()) return;
  omp_set_num_threads(2);
  const std::string whole = fresh_dir("whole"), parts = fresh_dir("parts");
  train::Config c = small_config(whole);
  c.epochs = 2;
  c.model.occlude = true;  // its squares come from the step's stream too
  train::run(c);

  train::Config s = c;
  s.out_dir = parts;
  s.checkpoint_every = 3;
  s.after_step = [](int64_t steps) {
    if (steps == 7) std::raise(SIGINT);  // mid-epoch 1, after a periodic checkpoint at step 6
  };
  try {
    train::run(s);
    FAIL("the run did not stop on SIGINT");
  } catch (const train::Interrupted& e) {
    CHECK(e.signal == SIGINT);
    CHECK(train::exit_status(e) == 130);
    CHECK_THAT(e.what(), Catch::Contains("after step 7") && Catch::Contains(train::checkpoint_path(parts)));
  }
  CHECK(load_safetensors(train::checkpoint_path(parts)).metadata.at("step") == "7");
  s.after_step = nullptr;
  s.resume = true;
  const auto resumed = train::run(s);
  CHECK(resumed.size() == 2);  // the rest of epoch 1, and epoch 2
  require_identical_checkpoints(train::checkpoint_path(whole), train::checkpoint_path(parts));
  CHECK(metrics_without_timing(whole) == metrics_without_timing(parts));
  fs::remove_all(whole);
  fs::remove_all(parts);
}

TEST_CASE("occupied folders, other settings and damaged checkpoints are refused", "[train]") {
  if (!have_fashion_mnist()) return;
  const std::string out = fresh_dir("refuse");
  train::Config c = small_config(out);
  train::run(c);
  const std::string ckpt = train::checkpoint_path(out);

  // Another run into the same folder, unless asked.
  try {
    train::run(c);
    FAIL("an occupied --out was accepted");
  } catch (const train::UsageError& e) {
    CHECK_THAT(e.what(), Catch::Contains(out) && Catch::Contains("--resume") && Catch::Contains("--overwrite"));
  }
  // A resume with other settings names each differing field.
  train::Config other = c;
  other.resume = true;
  other.epochs = 2;
  other.model.mi_units = 32;
  other.lr = 5e-4;
  try {
    train::run(other);
    FAIL("a resume with other settings was accepted");
  } catch (const train::UsageError& e) {
    CHECK_THAT(e.what(), Catch::Contains("model.mi_units (checkpoint 64, now 32)") && Catch::Contains("lr"));
  }
  // Truncated and corrupt checkpoints: InputError naming the file.
  const std::string saved = out + "/saved.safetensors";
  fs::copy_file(ckpt, saved);
  c.resume = true;
  c.epochs = 2;
  fs::resize_file(ckpt, 100);
  CHECK_THROWS_AS(train::run(c), train::InputError);
  CHECK_THROWS_WITH(train::run(c), Catch::Contains(ckpt));
  fs::copy_file(saved, ckpt, fs::copy_options::overwrite_existing);
  {
    std::fstream f(ckpt, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.write("\x01\x02\x03", 3);  // inside the JSON header
  }
  CHECK_THROWS_AS(train::run(c), train::InputError);
  CHECK_THROWS_WITH(train::run(c), Catch::Contains(ckpt));
  // --overwrite starts afresh.
  c.resume = false;
  c.overwrite = true;
  c.epochs = 1;
  CHECK(train::run(c).size() == 1);
  fs::remove_all(out);
}

TEST_CASE("dim-train rejects bad settings before any work", "[train]") {
  train::Config c = small_config("/tmp/imx_bad");
  c.model.alpha = 0, c.model.beta = 0;
  CHECK_THROWS_AS(train::run(c), train::UsageError);
  CHECK_THROWS_WITH(train::run(c), Catch::Contains("--alpha and --beta"));
  c = small_config("/tmp/imx_bad");
  c.lr = 0;
  CHECK_THROWS_WITH(train::run(c), Catch::Contains("--lr"));
  c = small_config("/tmp/imx_bad");
  c.batch = 1;
  CHECK_THROWS_WITH(train::run(c), Catch::Contains("--batch"));
  c = small_config("/tmp/imx_bad");
  c.data = "cifar10:/nonexistent/folder";
  CHECK_THROWS_WITH(train::run(c), Catch::Contains("/nonexistent/folder"));
  c = small_config("/tmp/imx_bad");
  c.resume = true;
  c.out_dir = "/tmp/imx_bad_no_checkpoint";
  CHECK_THROWS_WITH(train::run(c), Catch::Contains("no checkpoint"));
  if (have_fashion_mnist()) {
    c = small_config("/tmp/imx_bad_batch");
    fs::remove_all(c.out_dir);
    c.batch = 1000;
    CHECK_THROWS_WITH(train::run(c), Catch::Contains("larger than the 640 training images"));
  }
}

TEST_CASE("STL-10 trains DIM on train + unlabeled; other data sets on train alone", "[train]") {
  data::Splits s;
  auto images = [](int n, int32_t label) {
    data::Dataset d;
    d.name = "synthetic";
    d.channels = 3, d.height = 96, d.width = 96;
    d.class_names = {"a", "b"};
    d.labels.assign(n, label);
    d.pixels.assign(static_cast<size_t>(n) * d.image_bytes(), 7);
    return d;
  };
  s.train = images(5, 1);
  s.unlabeled = images(20, -1);
  const data::Dataset stl = train::training_images(s, data::parse_spec("stl10:/x"));
  CHECK(stl.size() == 25);
  CHECK(stl.labels[4] == 1);
  CHECK(stl.labels[5] == -1);
  CHECK(train::training_images(s, data::parse_spec("tinyimagenet:/x")).size() == 5);
}
