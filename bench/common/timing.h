// Timing helpers shared by the benchmarks: best-of-N wall time after a warm-up, and the
// machine's matrix-product ceiling measured in the same run.
#pragma once
#include <chrono>
#include <functional>

namespace imx::bench {

// Minimum seconds over `reps` runs of f, after one warm-up run. The minimum is the least
// noisy estimate on a shared machine.
inline double best_seconds(int reps, const std::function<void()>& f) {
  f();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  return best;
}

// GFLOP/s of a single-precision 2048^3 product through OpenBLAS (cblas_sgemm): the ceiling
// that engine products are reported against.
double sgemm_ceiling_gflops(int n = 2048, int reps = 5);

}  // namespace imx::bench
