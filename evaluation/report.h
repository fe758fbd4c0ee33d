// dim-eval's result: one table (rows: feature set × model; columns: MLP probe, linear probe,
// k-NN test accuracy), the dependency measures per model, and what budget produced them;
// printed as text and written as JSON.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluation/budget.h"

namespace imx::eval {

// Model keys and the names the table prints.
inline constexpr const char* kTrained = "dim";            // the checkpoint's encoder
inline constexpr const char* kRandom = "random";          // same architecture and seed, never trained
inline constexpr const char* kRandomBn = "random_bn";     // that, with BN statistics estimated on train
inline constexpr const char* kPixels = "pixels";          // no encoder: the images themselves
std::string model_title(const std::string& key);

struct AccuracyRow {
  std::string features;  // conv, fc, y, pixels
  std::string model;     // one of the keys above
  std::optional<double> mlp, linear, knn;  // test accuracy in [0, 1]; empty = not run
};

struct DependencyRow {
  std::string model;
  std::optional<double> ndm, mine;  // nats, on the test split; empty = not run
};

struct Report {
  std::string checkpoint, data;
  int64_t encoder_epoch = 0;
  int64_t train_images = 0, test_images = 0, classes = 0;
  Budget budget;
  int64_t knn_k = 20;
  double knn_temperature = 0.07;
  std::vector<AccuracyRow> rows;
  std::vector<DependencyRow> dependency;
  double seconds = 0;  // wall time of the whole evaluation
};

std::string format_report(const Report& r);
// "88.79%", or "-" when not run.
std::string percent(const std::optional<double>& accuracy);
nlohmann::json to_json(const Report& r);
// Throws imx::Error naming the file when it cannot be written.
void write_json(const Report& r, const std::string& path);

}  // namespace imx::eval
