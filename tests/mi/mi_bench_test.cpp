// dim-bench mi: a tiny run in JSON mode reports every implementation with the documented fields,
// memory figures that match the library's formulas, and skips with a reason past --max-gb.
#include <catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "losses/mi/mi.h"
#include "tests/mi/test_files.h"

using imx::test::TempDir;

TEST_CASE("dim-bench mi --json reports fused, unfused and naive", "[mi][bench]") {
  TempDir dir("imx_dim_bench");
  const auto r = imx::test::run_command(
      std::string("'") + DIM_BENCH_PATH + "' mi --estimator infonce,w1 --B 5 --P 3 --D 8 --K 2 --reps 1 --threads 2 --ceiling-n 256 --json", dir);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    for (const char* key : {"estimator", "impl", "device", "B", "P", "D", "K", "fwd_ms", "fwd_bwd_ms", "gflops", "extra_mem_mb"})
      CHECK(j.contains(key));
    CHECK(j["device"] == "cpu");
    CHECK(j["B"] == 5);
    CHECK(j["K"] == 2);
    CHECK(j["fwd_bwd_ms"].get<double>() > 0);
    const imx::mi::Problem pb{5, 3, 8, 2};
    const auto e = imx::mi::parse_estimator(j["estimator"].get<std::string>());
    const auto impl = imx::mi::parse_impl(j["impl"].get<std::string>());
    imx::mi::Options opt;
    opt.threads = 2;
    CHECK(j["extra_mem_mb"].get<double>() == Approx(imx::mi::extra_bytes(impl, pb, e, 4, true, opt) / 1e6));
    CHECK(j["gflops"].get<double>() == Approx(6.0 * 10 * 15 * 8 / (j["fwd_bwd_ms"].get<double>() * 1e-3) / 1e9));
    ++rows;
  }
  CHECK(rows == 6);  // 2 estimators x 3 implementations

  const auto skipped = imx::test::run_command(
      std::string("'") + DIM_BENCH_PATH + "' mi --B 6 --P 4 --D 4 --impl naive,fused --max-gb 0.000001 --reps 1 --ceiling-n 64 --json", dir);
  REQUIRE(skipped.exit_code == 0);
  CHECK(skipped.out.find("\"skipped\":\"needs") != std::string::npos);
  // With a device the CUDA rows come out; without one the error names the flag and the reason.
  const auto cuda = imx::test::run_command(
      std::string("'") + DIM_BENCH_PATH + "' mi --device cuda --B 6 --P 4 --D 4 --impl fused --reps 1 --json", dir);
  if (cuda.exit_code == 0) CHECK(cuda.out.find("\"device\":\"cuda\"") != std::string::npos);
  else CHECK(cuda.err.find("--device cuda") != std::string::npos);
  CHECK(imx::test::run_command(std::string("'") + DIM_BENCH_PATH + "' mi --device gpu", dir).err.find("cpu or cuda") !=
        std::string::npos);
}
