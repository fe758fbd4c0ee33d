// dim-gradcheck: every op's gradient rule against central finite differences (float64, CPU);
// with --order 2, gradients of gradients (grad(create_graph=true)) likewise.
#include <CLI/CLI.hpp>

#include "engine/runtime.h"
#include <cstdio>
#include <regex>

#include "tools/gradcheck/gradcheck.h"

int main(int argc, char** argv) {
  imx::prefer_passive_openmp(argv);
  CLI::App app{"Checks every engine op's backward pass, and DIM's critics, heads and objectives "
               "(small instances), against central finite differences in float64 on the CPU. With --order 2, each case's output is instead a gradient "
               "taken with grad(create_graph=true), differentiated again by backward and "
               "checked the same way (every op with a differentiable rule, and the prior "
               "discriminator's gradient penalty). Prints one row per case; exits 1 if any case "
               "fails."};
  std::string filter;
  int order = 1;
  imx::gradcheck::Options opt;
  app.add_option("--op", filter, "Only ops whose name matches this regular expression");
  app.add_option("--order", order, "1: first-order gradients; 2: second-order gradients")
      ->check(CLI::IsMember({1, 2}))
      ->capture_default_str();
  app.add_option("--step", opt.step, "Finite-difference step")->capture_default_str();
  app.add_option("--tol", opt.tol, "Tolerance on |analytic - numeric| / max(1, |numeric|)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::regex re(filter.empty() ? ".*" : filter);
  int run = 0, failed = 0;
  std::printf("%-36s %-40s %12s %12s  %s\n", "op", "shape", "max_abs_err", "max_rel_err", "result");
  namespace gc = imx::gradcheck;
  auto cases = order == 2 ? gc::second_order_cases() : gc::engine_cases();
  for (auto& c : order == 2 ? gc::model_second_order_cases() : gc::model_cases()) cases.push_back(std::move(c));
  for (const auto& c : cases) {
    if (!std::regex_search(c.op, re)) continue;
    const auto r = imx::gradcheck::check(c, opt);
    ++run;
    failed += !r.pass;
    std::printf("%-36s %-40s %12.3e %12.3e  %s%s%s\n", r.op.c_str(), r.shape.c_str(), r.max_abs_err,
                r.max_rel_err, r.pass ? "PASS" : "FAIL", r.error.empty() ? "" : ": ",
                r.error.c_str());
  }
  if (run == 0) {
    std::fprintf(stderr, "dim-gradcheck: no op matches '%s'\n", filter.c_str());
    return 2;
  }
  std::printf("%d cases, %d passed, %d failed\n", run, run - failed, failed);
  return failed ? 1 : 0;
}
