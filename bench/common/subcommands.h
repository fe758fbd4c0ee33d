// dim-bench is one executable with one CLI11 subcommand per benchmark family. Each family
// provides a function that adds its subcommand (with its own flags and callback) to the app;
// main.cpp lists them. To add a family: write add_<name>_subcommand next to your benchmark,
// link it into dim-bench, and add it to kSubcommands in main.cpp.
#pragma once
#include <CLI/CLI.hpp>

namespace imx::bench {

// `dim-bench mi`: the mutual-information loss kernels (bench/mi/mi_bench.cpp).
void add_mi_subcommand(CLI::App& app);
// `dim-bench engine`: products, convolutions and training steps (bench/engine/bench_engine.cpp).
void add_engine_subcommand(CLI::App& app);
// `dim-bench objectives`: a training step of every DIM objective and critic
// (bench/objectives/bench_objectives.cpp).
void add_objectives_subcommand(CLI::App& app);
// `dim-bench dist`: the MI loss over data-parallel ranks (bench/dist/bench_dist.cpp).
void add_dist_subcommand(CLI::App& app);

}  // namespace imx::bench
