// What dim-eval writes: .npy features that read back with their shapes and values, the JSON
// report with every field of the table, the neighbour picture's layout, the budget presets.
#include <catch.hpp>
#include <filesystem>

#include "engine/npy.h"
#include "evaluation/budget.h"
#include "evaluation/export.h"
#include "evaluation/neighbours.h"
#include "evaluation/report.h"

using namespace imx;
using namespace imx::eval;

TEST_CASE("--export writes features and labels that read back with their shapes", "[eval][outputs]") {
  const auto dir = std::filesystem::temp_directory_path() / "imx_eval_export";
  std::filesystem::remove_all(dir);
  Features f;
  f.conv = Tensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4});
  f.fc = Tensor::from({1, 2, 3, 4, 5, 6}, {3, 2});
  f.y = Tensor::from({-1, 0.5, 2}, {3, 1});
  f.labels = {2, 0, 1};
  const auto written = export_features(dir.string(), "test", f);
  CHECK(written.size() == 4);
  for (const auto& [name, t] : {std::pair{"conv", f.conv}, {"fc", f.fc}, {"y", f.y}}) {
    const NpyArray a = read_npy((dir / (std::string("test_") + name + ".npy")).string());
    CHECK(a.dtype == "<f4");
    CHECK(a.shape == t.shape());
    const std::vector<double> want = t.to_vector();
    CHECK(std::vector<double>(a.as<float>(), a.as<float>() + a.numel()) == want);
  }
  const NpyArray labels = read_npy((dir / "test_labels.npy").string());
  CHECK(labels.dtype == "<i4");
  CHECK(labels.shape == std::vector<int64_t>{3});
  CHECK(std::vector<int32_t>(labels.as<int32_t>(), labels.as<int32_t>() + 3) == f.labels);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the JSON report holds every field of the table", "[eval][outputs]") {
  Report r;
  r.checkpoint = "ckpt.safetensors";
  r.data = "fashion-mnist:/x";
  r.encoder_epoch = 3;
  r.train_images = 600;
  r.test_images = 100;
  r.classes = 10;
  r.budget = budget_preset("quick");
  r.rows = {{"conv", kTrained, 0.8, 0.75, 0.7}, {"pixels", kPixels, std::nullopt, 0.6, 0.65}};
  r.dependency = {{kTrained, 0.25, 1.5}};
  const nlohmann::json j = to_json(r);
  CHECK(j.at("checkpoint") == "ckpt.safetensors");
  CHECK(j.at("encoder_epoch") == 3);
  CHECK(j.at("budget").at("preset") == "quick");
  CHECK(j.at("budget").at("probe_epochs") == 2);
  CHECK(j.at("knn_settings").at("k") == 20);
  REQUIRE(j.at("accuracy").size() == 2);
  const auto& row = j.at("accuracy")[0];
  CHECK(row.at("features") == "conv");
  CHECK(row.at("model") == "dim");
  CHECK(row.at("mlp_probe") == 0.8);
  CHECK(row.at("linear_probe") == 0.75);
  CHECK(row.at("knn") == 0.7);
  CHECK(j.at("accuracy")[1].at("mlp_probe").is_null());  // not run on pixels
  CHECK(j.at("dependency")[0].at("ndm") == 0.25);
  CHECK(j.at("dependency")[0].at("mine") == 1.5);
  const std::string text = format_report(r);
  CHECK(text.find("random init") == std::string::npos);
  CHECK(text.find("80.00%") != std::string::npos);
  CHECK(text.find("quick: MLP probe 2 epochs") != std::string::npos);
}

TEST_CASE("budgets: presets and scaled milestones", "[eval][outputs]") {
  CHECK(scaled_milestones(150) == std::vector<int64_t>{50, 100});
  CHECK(scaled_milestones(10) == std::vector<int64_t>{3, 7});
  CHECK(scaled_milestones(2) == std::vector<int64_t>{1});
  CHECK(scaled_milestones(1).empty());
  CHECK(budget_preset("full").probe_lr == 1e-4);
  CHECK_THROWS_WITH(budget_preset("huge"), Catch::Contains("valid: full, quick"));
}

TEST_CASE("the neighbour picture: each query, then its neighbours", "[eval][outputs]") {
  data::Dataset train, test;
  for (auto* d : {&train, &test}) d->channels = 1, d->height = d->width = 2;
  for (uint8_t i = 0; i < 5; ++i) train.pixels.insert(train.pixels.end(), 4, i), train.labels.push_back(i % 2);
  test.pixels = {200, 200, 200, 200, 201, 201, 201, 201};
  test.labels = {0, 1};
  Neighbours nb;
  nb.k = 2;
  nb.index = {4, 1, 0, 3};
  nb.similarity = {1, 1, 1, 1};
  const std::vector<uint32_t> queries{1, 0};
  const data::ImageGrid g = neighbour_grid(train, test, queries, nb);
  CHECK(g.rows == 2);
  CHECK(g.cols == 3);
  auto tile = [&](int row, int col) { return g.pixels[(2 + row * 4) * g.width + 2 + col * 4]; };  // gap 2
  CHECK(tile(0, 0) == 201);  // test image 1
  CHECK(tile(0, 1) == 4);
  CHECK(tile(0, 2) == 1);
  CHECK(tile(1, 0) == 200);
  CHECK(tile(1, 2) == 3);
  CHECK(one_query_per_class({3, 1, 1, 0, 2}, 4, 3) == std::vector<uint32_t>{3, 1, 4});
}
