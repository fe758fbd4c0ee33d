// dim-bench: benchmarks of infomax's kernels, one subcommand per family (see subcommands.h).
#include <exception>
#include <iostream>

#include "bench/common/subcommands.h"
#include "engine/runtime.h"

int main(int argc, char** argv) {
  imx::prefer_passive_openmp(argv);
  CLI::App app{"dim-bench: timings of infomax's kernels against baselines measured in the same run"};
  using AddSubcommand = void (*)(CLI::App&);
  constexpr AddSubcommand kSubcommands[] = {imx::bench::add_engine_subcommand,
                                            imx::bench::add_mi_subcommand,
                                            imx::bench::add_objectives_subcommand,
                                            imx::bench::add_dist_subcommand};
  for (AddSubcommand add : kSubcommands) add(app);
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "dim-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
