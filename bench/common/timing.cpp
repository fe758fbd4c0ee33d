#include "bench/common/timing.h"

#include <omp.h>

#include <random>

#include "losses/mi/blas.h"

namespace imx::bench {

double sgemm_ceiling_gflops(int threads, int n, int reps) {
  mi::blas::ScopedThreads blas_threads(threads > 0 ? threads : omp_get_max_threads());
  std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  const double s = best_seconds(reps, [&] {
    mi::blas::gemm<float>(false, false, n, n, n, 1, a.data(), n, b.data(), n, 0, c.data(), n);
  });
  return 2.0 * n * n * double(n) / s / 1e9;
}

}  // namespace imx::bench
