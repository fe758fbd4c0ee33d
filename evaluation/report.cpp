#include "evaluation/report.h"

#include <cstdio>
#include <fstream>

#include "engine/core.h"

namespace imx::eval {

std::string model_title(const std::string& key) {
  if (key == kTrained) return "DIM";
  if (key == kRandom) return "random init";
  if (key == kRandomBn) return "random init + BN stats";
  if (key == kPixels) return "-";
  return key;
}

namespace {

std::string cell(const std::optional<double>& v, double scale, const char* format) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, *v * scale);
  return buf;
}

std::string line(const char* format, const std::string& a, const std::string& b, const std::string& c,
                 const std::string& d, const std::string& e = "") {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, a.c_str(), b.c_str(), c.c_str(), d.c_str(), e.c_str());
  return buf;
}

nlohmann::json optional_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

std::string percent(const std::optional<double>& accuracy) { return cell(accuracy, 100, "%.2f%%"); }

std::string format_report(const Report& r) {
  std::string out = "dim-eval: " + r.checkpoint + " (epoch " + std::to_string(r.encoder_epoch) + ") on " + r.data +
                    ": " + std::to_string(r.train_images) + " train / " + std::to_string(r.test_images) +
                    " test images, " + std::to_string(r.classes) + " classes\n";
  out += "budget " + describe(r.budget) + "\n\n";
  char knn[96];
  std::snprintf(knn, sizeof knn, "test accuracy (k-NN: k=%lld, cosine, votes exp(sim/%g))\n",
                static_cast<long long>(r.knn_k), r.knn_temperature);
  out += knn;
  const char* row_format = "%-9s %-24s %10s %13s %8s\n";
  out += line(row_format, "features", "model", "MLP probe", "linear probe", "k-NN");
  for (const auto& row : r.rows)
    out += line(row_format, row.features, model_title(row.model), percent(row.mlp), percent(row.linear),
                percent(row.knn));
  if (!r.dependency.empty()) {
    out += "\ndependency measures (DV bounds in nats on the test split)\n";
    const char* dep_format = "%-24s %12s %16s%s%s\n";
    out += line(dep_format, "model", "NDM of Y", "MINE I(X;Y)", "", "");
    for (const auto& d : r.dependency)
      out += line(dep_format, model_title(d.model), cell(d.ndm, 1, "%.4f"), cell(d.mine, 1, "%.4f"), "", "");
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "\nwall time %.1f s\n", r.seconds);
  return out + buf;
}

nlohmann::json to_json(const Report& r) {
  nlohmann::json rows = nlohmann::json::array(), dependency = nlohmann::json::array();
  for (const auto& row : r.rows)
    rows.push_back({{"features", row.features},
                    {"model", row.model},
                    {"mlp_probe", optional_json(row.mlp)},
                    {"linear_probe", optional_json(row.linear)},
                    {"knn", optional_json(row.knn)}});
  for (const auto& d : r.dependency)
    dependency.push_back({{"model", d.model}, {"ndm", optional_json(d.ndm)}, {"mine", optional_json(d.mine)}});
  return {{"checkpoint", r.checkpoint},
          {"data", r.data},
          {"encoder_epoch", r.encoder_epoch},
          {"train_images", r.train_images},
          {"test_images", r.test_images},
          {"classes", r.classes},
          {"budget", eval::to_json(r.budget)},
          {"knn_settings", {{"k", r.knn_k}, {"temperature", r.knn_temperature}, {"similarity", "cosine"}}},
          {"accuracy", rows},
          {"dependency", dependency},
          {"seconds", r.seconds}};
}

void write_json(const Report& r, const std::string& path) {
  std::ofstream out(path);
  out << to_json(r).dump(2) << "\n";
  check(static_cast<bool>(out), "dim-eval", path + ": cannot write the JSON report");
}

}  // namespace imx::eval
