// Timing helpers for dim-bench: median of repetitions after a warm-up, and the matrix-product
// ceiling (a large OpenBLAS sgemm) measured in the same run.
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

namespace imx::bench {

inline double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs f once to warm up, then `reps` times, and returns the median in milliseconds. When the
// warm-up took over slow_ms, one timed run is enough (and keeps the naive path's minutes-long
// runs from dominating the benchmark).
template <class F>
double median_ms(int reps, F&& f, double slow_ms = 2000) {
  const double w0 = seconds_now();
  f();
  if ((seconds_now() - w0) * 1e3 > slow_ms) reps = 1;
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double t0 = seconds_now();
    f();
    t.push_back((seconds_now() - t0) * 1e3);
  }
  std::sort(t.begin(), t.end());
  return t.size() % 2 ? t[t.size() / 2] : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]);
}

// GFLOP/s of a float32 n x n x n product through OpenBLAS on `threads` threads, best of `reps`.
double sgemm_ceiling_gflops(int threads, int n = 2048, int reps = 3);

}  // namespace imx::bench
