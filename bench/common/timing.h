// Timing helpers shared by the benchmarks: repeated runs after a warm-up, and the machine's
// matrix-product ceiling measured in the same run (results are ratios to it).
#pragma once
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace imx::bench {

inline double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Minimum seconds over `reps` runs of f, after one warm-up run, going on past `reps` runs until
// the timed runs add up to min_seconds: the least noisy estimate of what the code can do on a
// shared machine. (A 1 ms kernel timed 20 times is measured in a 20 ms window, which a burst of
// load from other work can cover whole.)
inline double best_seconds_over(int reps, double min_seconds, const std::function<void()>& f) {
  f();
  double best = 1e30, total = 0;
  for (int i = 0; i < reps || total < min_seconds; ++i) {
    const double t0 = seconds_now();
    f();
    const double t = seconds_now() - t0;
    best = std::min(best, t), total += t;
  }
  return best;
}

// Minimum seconds over exactly `reps` runs of f, after one warm-up run.
inline double best_seconds(int reps, const std::function<void()>& f) { return best_seconds_over(reps, 0, f); }

// Median milliseconds of `reps` runs after a warm-up. When the warm-up took over slow_ms, one
// timed run is enough (it keeps minutes-long naive paths from dominating a benchmark).
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

// The ceiling: a float32 n×n×n product on `threads` threads (0 = all) through OpenBLAS and
// through oneDNN (when built with it), the faster of the two, with the operands kept ready so
// that it can be timed right beside each measured run.
// On a shared machine whose available compute drifts by tens of percent within a minute, the
// ratio of two runs taken back to back is steadier than either: each step's share of the
// ceiling is taken against its own neighbour.
class CeilingProbe {
 public:
  explicit CeilingProbe(int threads = 0, int n = 2048);
  double gflops();  // one timed product
  double best_gflops(int reps);  // best of `reps`, after a warm-up product

 private:
  int threads_, n_;
  std::vector<float> a_, b_, c_;
};

// GFLOP/s of the ceiling's product (CeilingProbe), best of `reps`, on `threads` threads (0 = all).
double sgemm_ceiling_gflops(int threads = 0, int n = 2048, int reps = 3);

}  // namespace imx::bench
