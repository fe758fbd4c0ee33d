// dim-train end to end on a small slice of the real Fashion-MNIST: it learns (probe accuracy
// well above chance), writes metrics and an atomic checkpoint, and resumes from it.
#include <catch.hpp>
#include <filesystem>
#include <fstream>

#include "engine/safetensors.h"
#include "imx/data/load.hpp"
#include "models/deep_infomax.h"
#include "tools/train/trainer.h"

using namespace imx;

namespace {

bool have_fashion_mnist() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

train::Config small_config(const std::string& out) {
  train::Config c;
  c.data = data::kDefaultDataset;
  c.epochs = 1;
  c.limit_train = 1024;
  c.limit_test = 512;
  c.model.mi_units = 64;
  c.batch = 64;
  c.lr = 1e-3;
  c.probe_lr = 1e-3;
  c.out_dir = out;
  c.progress_seconds = 1e9;
  return c;
}

}  // namespace

TEST_CASE("dim-train learns, checkpoints and resumes on Fashion-MNIST", "[train]") {
  if (!have_fashion_mnist()) {
    WARN("Fashion-MNIST is not installed (setup.sh installs dataset-fashion-mnist); not run");
    CHECK_THROWS(train::run(small_config("/tmp/imx_no_data")));  // and the error is clean
    return;
  }
  const std::string out = (std::filesystem::temp_directory_path() / "imx_train_test").string();
  std::filesystem::remove_all(out);
  train::Config c = small_config(out);
  const auto first = train::run(c);
  REQUIRE(first.size() == 1);
  // 10 classes: chance is 10%. The conv-feature probe on a partly trained encoder does far better.
  CHECK(first[0].acc_conv > 0.5);
  CHECK(std::isfinite(first[0].terms.at("local")));
  CHECK(first[0].terms.count("disc") == 1);  // the default gamma 0.1 trains the discriminator
  CHECK(std::filesystem::exists(train::checkpoint_path(out)));

  c.epochs = 2;
  c.resume = true;
  const auto second = train::run(c);
  REQUIRE(second.size() == 1);
  CHECK(second[0].epoch == 2);
  std::ifstream metrics(out + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line);) ++lines;
  CHECK(lines == 2);

  // dim-eval rebuilds the whole model from the checkpoint alone.
  const auto model = models::DeepInfoMax::load(train::checkpoint_path(out));
  const auto info = train::checkpoint_info(train::checkpoint_path(out));
  CHECK(info.epoch == 2);
  CHECK(info.data == c.data);
  const TensorFile file = load_safetensors(train::checkpoint_path(out));
  for (auto& [name, p] : model->named_parameters()) CHECK(p.to_vector() == file.find(name)->to_vector());
  CHECK(model->encoder().forward(Tensor::zeros({2, 1, 28, 28})).y.shape() == Shape{2, 64});

  // A resume with other settings is refused, naming the differing field.
  train::Config other = c;
  other.epochs = 3;
  other.model.mi_units = 32;
  CHECK_THROWS_WITH(train::run(other), Catch::Contains("mi_units"));

  // A damaged checkpoint is reported by name, not trained over.
  std::filesystem::resize_file(train::checkpoint_path(out), 100);
  c.epochs = 3;
  CHECK_THROWS_WITH(train::run(c), Catch::Contains(train::checkpoint_path(out)));
  std::filesystem::remove_all(out);
}

TEST_CASE("dim-train rejects bad settings with clear errors", "[train]") {
  train::Config c = small_config("/tmp/imx_bad");
  c.model.alpha = 0, c.model.beta = 0;
  CHECK_THROWS_WITH(train::run(c), Catch::Contains("--alpha and --beta"));
  c = small_config("/tmp/imx_bad");
  c.lr = 0;
  CHECK_THROWS_WITH(train::run(c), Catch::Contains("--lr"));
  c = small_config("/tmp/imx_bad");
  c.data = "cifar10:/nonexistent/folder";
  CHECK_THROWS_WITH(train::run(c), Catch::Contains("/nonexistent/folder"));
  c = small_config("/tmp/imx_bad");
  c.resume = true;
  c.out_dir = "/tmp/imx_bad_no_checkpoint";
  if (have_fashion_mnist()) CHECK_THROWS_WITH(train::run(c), Catch::Contains("no checkpoint"));
}
