#include "bench/mi/timing.h"

#include <random>

#include "losses/mi/blas.h"

namespace imx::bench {

double sgemm_ceiling_gflops(int threads, int n, int reps) {
  mi::blas::ScopedThreads blas_threads(threads);
  std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  auto product = [&] { mi::blas::gemm<float>(false, false, n, n, n, 1, a.data(), n, b.data(), n, 0, c.data(), n); };
  product();  // warm-up: OpenBLAS's threads and buffers
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double t0 = seconds_now();
    product();
    best = std::min(best, seconds_now() - t0);
  }
  return 2.0 * n * n * double(n) / best / 1e9;
}

}  // namespace imx::bench
