// dim-bench engine: a tiny run in JSON mode reports each training step with its FLOP count (the
// sum of the printed terms), images/s and share of the ceiling consistent with its time, its
// peak memory, and no allocation from the system once the caching allocator is warm.
#include <catch.hpp>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "bench/common/timing.h"
#include "tests/mi/test_files.h"

using imx::test::TempDir;

namespace {

// The rows of one kind of one `dim-bench engine --json` run with the given flags.
std::vector<nlohmann::json> rows_of(const std::string& kind, const std::string& flags, const char* dir_name) {
  TempDir dir(dir_name);
  const auto r = imx::test::run_command(std::string("'") + DIM_BENCH_PATH + "' engine --json " + flags, dir);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j["kind"] == kind) rows.push_back(std::move(j));
  }
  return rows;
}

std::vector<nlohmann::json> step_rows(const std::string& flags, const char* dir_name) {
  return rows_of("step", "--steps-only " + flags, dir_name);
}

}  // namespace

TEST_CASE("dim-bench engine --json reports steps with their FLOP count and memory", "[bench]") {
  const auto rows = step_rows("--arch mnist28 --mi-units 32 --estimator jsd,infonce --batch 4 --reps 1 --step-reps 2",
                              "imx_dim_bench_engine");
  int steps = 0;
  for (const auto& j : rows) {
    CHECK(j["arch"] == "mnist28");
    CHECK(j["batch"] == 4);
    double sum = 0;
    for (const auto& [what, flops] : j["flop_terms"].items()) sum += flops.get<double>();
    CHECK(j["flops"].get<double>() == Approx(sum));
    // mnist28: conv0 1->64 k5 (28 -> 14), two products; its MI loss: 6 * 4 * (4 * 49) * 32.
    CHECK(j["flop_terms"]["conv0 fwd+bwd (2 products)"].get<double>() == Approx(2 * 2.0 * 4 * 64 * 14 * 14 * 25));
    CHECK(j["flop_terms"]["MI loss (3 products)"].get<double>() == Approx(6.0 * 4 * 4 * 49 * 32));
    const double s = j["ms"].get<double>() * 1e-3;
    CHECK(j["images_per_s"].get<double>() == Approx(4 / s));
    // The share is the median over steps of each step's share of the ceiling product timed
    // just before it (two steps: the mean of the two).
    const auto ms = j["ms_per_step"].get<std::vector<double>>();
    const auto ceilings = j["ceiling_gflops_per_step"].get<std::vector<double>>();
    REQUIRE(ms.size() == 2);
    REQUIRE(ceilings.size() == 2);
    CHECK(s == Approx((ms[0] + ms[1]) / 2e3));
    const double share0 = 100 * sum / (ms[0] * 1e-3) / 1e9 / ceilings[0];
    const double share1 = 100 * sum / (ms[1] * 1e-3) / 1e9 / ceilings[1];
    CHECK(j["pct_of_ceiling"].get<double>() == Approx((share0 + share1) / 2));
    CHECK(j["ceiling_gflops"].get<double>() == Approx((ceilings[0] + ceilings[1]) / 2));
    CHECK(j["peak_mb"].get<double>() > 0);
    CHECK(j["allocations_per_step"].get<int64_t>() > 0);
    CHECK(j["system_allocations_per_step"].get<int64_t>() == 0);
    ++steps;
  }
  CHECK(steps == 2);
}

TEST_CASE("dim-bench engine --breakdown splits each step into phases, forward ops and backward rules", "[bench]") {
  const auto rows = step_rows("--breakdown --arch mnist28 --mi-units 32 --estimator jsd --batch 4 --reps 1 --step-reps 3",
                              "imx_dim_bench_engine_breakdown");
  int steps = 0;
  for (const auto& j : rows) {
    const auto& b = j["breakdown"];
    const double fwd = b["forward_ms"].get<double>(), bwd = b["backward_ms"].get<double>(),
                 opt = b["optimizer_ms"].get<double>();
    CHECK(fwd > 0);
    CHECK(bwd > 0);
    CHECK(opt > 0);
    // Medians of the parts need not add up to the median step, but none exceeds the slowest step.
    CHECK(std::max({fwd, bwd, opt}) <= j["ms"].get<double>() * 3);
    // Each pass by op: the encoder's convolutions, linear layers and fused batch norms all appear
    // (mnist28 has two conv layers and one fc layer with batch norm), and the ops' times add up to
    // more than nothing and lie inside their pass. Forward: the time up to each recorded output;
    // backward: each op's gradient rules.
    const auto check_ops = [](const nlohmann::json& ops, double pass_ms) {
      CHECK(ops["conv2d"]["calls_per_step"].get<double>() == 2);
      CHECK(ops.contains("linear"));
      CHECK(ops.contains("batch_norm_relu"));
      double op_ms = 0;
      for (const auto& [op, e] : ops.items()) op_ms += e["ms_per_step"].get<double>();
      CHECK(op_ms > 0);
      CHECK(op_ms <= pass_ms * 3);
    };
    check_ops(b["backward_rules"], bwd);
    check_ops(b["forward_ops"], fwd);
    ++steps;
  }
  CHECK(steps == 1);
}

TEST_CASE("dim-bench engine --json: each conv row names the kernel that ran each pass", "[bench]") {
  const auto rows = rows_of("conv", "--batch 2 --reps 1 --arch mnist28 --mi-units 32 --estimator jsd --step-reps 1",
                            "imx_dim_bench_engine_conv");
  REQUIRE(rows.size() == 6);  // five layers and the DCGAN total
  const auto is_kernel = [](const std::string& k) { return k == "im2col" || k == "onednn" || k == "direct"; };
  for (const auto& j : rows) {
    const std::string what = j["what"];
    if (what.find("total") != std::string::npos) continue;
    INFO(what);
    const std::string kernels = j["kernels"];
    // "fwd K, filter K" for first layers (their images need no gradient), ", data K" after.
    const bool first = what.find(" conv0 ") != std::string::npos;
    const auto fwd = kernels.substr(4, kernels.find(',') - 4);
    CHECK(kernels.rfind("fwd ", 0) == 0);
    CHECK(is_kernel(fwd));
    CHECK((kernels.find(", data ") != std::string::npos) == !first);
    CHECK(kernels.find(", filter ") != std::string::npos);
  }
}

TEST_CASE("best_seconds_over runs at least reps times and at least min_seconds in all", "[bench]") {
  int runs = 0;
  const auto busy_ms = [&] {  // about 1 ms of work
    ++runs;
    const double t0 = imx::bench::seconds_now();
    while (imx::bench::seconds_now() - t0 < 1e-3) {
    }
  };
  CHECK(imx::bench::best_seconds_over(3, 0, busy_ms) >= 1e-3);
  CHECK(runs == 4);  // the warm-up and 3 timed runs
  runs = 0;
  CHECK(imx::bench::best_seconds_over(3, 0.03, busy_ms) >= 1e-3);
  CHECK(runs >= 1 + 25);  // 30 ms of 1 ms runs after the warm-up (fewer only if runs took longer)
  CHECK(runs <= 1 + 31);
}
