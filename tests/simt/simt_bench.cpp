// Cost of the emulation: the emulated 16x16-tiled matrix product against a plain C++ triple
// loop of the same size, measured in the same run. Not a test; prints a small table.
// Times are process CPU time (both sides run on this one thread), so that other jobs on a
// shared machine do not distort the ratio.
//   usage: simt_bench [M N K] [repeats]
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tests/simt/kernels/simt_test_kernels.cuh"
#include "tests/simt/test_support.h"

namespace kt = imx::emu::simt_test;

namespace {

template <class F>
double best_seconds(int repeats, F run) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const std::clock_t start = std::clock();
    run();
    best = std::min(best, static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC);
  }
  return best;
}

// The baseline: what a straightforward CPU implementation of the same product costs.
void plain_matmul(const float* a, const float* b, float* c, int m, int n, int k) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int p = 0; p < k; ++p) acc += a[static_cast<std::size_t>(i) * k + p] * b[static_cast<std::size_t>(p) * n + j];
      c[static_cast<std::size_t>(i) * n + j] = acc;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int m = argc >= 4 ? std::atoi(argv[1]) : 256;
  const int n = argc >= 4 ? std::atoi(argv[2]) : 256;
  const int k = argc >= 4 ? std::atoi(argv[3]) : 64;
  const int repeats = argc >= 5 ? std::atoi(argv[4]) : (argc == 2 ? std::atoi(argv[1]) : 5);

  const auto a = imx::simt_test::random_int_floats(static_cast<std::size_t>(m) * k, -3, 3, 1);
  const auto b = imx::simt_test::random_int_floats(static_cast<std::size_t>(k) * n, -3, 3, 2);
  imx::simt_test::DeviceBuffer<float> a_dev(a), b_dev(b), c_dev(static_cast<std::size_t>(m) * n);
  std::vector<float> c_plain(static_cast<std::size_t>(m) * n);

  const double plain = best_seconds(repeats, [&] { plain_matmul(a.data(), b.data(), c_plain.data(), m, n, k); });
  imx::simt::reset_stats();
  const double emulated = best_seconds(repeats, [&] {
    kt::tiled_matmul(a_dev.get(), b_dev.get(), c_dev.get(), m, n, k, kt::MatmulVariant::Correct);
  });
  const imx::simt::Stats stats = imx::simt::stats();
  const double error = imx::simt_test::max_abs_error(c_dev.download(), c_plain);

  const double threads_per_launch = static_cast<double>(stats.threads) / static_cast<double>(stats.launches);
  const double switches_per_launch = static_cast<double>(stats.context_switches) / static_cast<double>(stats.launches);
  std::printf("SIMT emulation bench: %dx%dx%d float matrix product, best of %d (CPU time)\n", m, n, k, repeats);
  std::printf("  %-34s %10.3f ms\n", "plain C++ triple loop (baseline)", plain * 1e3);
  std::printf("  %-34s %10.3f ms   %.1fx the baseline\n", "emulated 16x16 tiled kernel", emulated * 1e3,
              emulated / plain);
  std::printf("  GPU threads per launch %.0f, context switches per launch %.0f (%.1f ns per switch, upper bound)\n",
              threads_per_launch, switches_per_launch, emulated * 1e9 / switches_per_launch);
  std::printf("  max |emulated - plain| = %g\n", error);
  return error == 0.0 ? 0 : 1;
}
