#include "bench/common/timing.h"

#include <omp.h>

#include <random>

#include "blas/gemm.h"

namespace imx::bench {

CeilingProbe::CeilingProbe(int threads, int n)
    : threads_(threads > 0 ? threads : omp_get_max_threads()), n_(n), a_(size_t(n) * n), b_(size_t(n) * n),
      c_(size_t(n) * n) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (float& x : a_) x = u(rng);
  for (float& x : b_) x = u(rng);
}

double CeilingProbe::gflops() {
  blas::ScopedThreads blas_threads(threads_);
  const blas::SgemmLibrary setting = blas::sgemm_library();
  double best = 0;
  for (const auto library : {blas::SgemmLibrary::openblas, blas::SgemmLibrary::onednn}) {
    if (library == blas::SgemmLibrary::onednn && !blas::have_onednn()) continue;
    blas::set_sgemm_library(library);
    const double t0 = seconds_now();
    blas::gemm<float>(false, false, n_, n_, n_, 1, a_.data(), n_, b_.data(), n_, 0, c_.data(), n_);
    best = std::max(best, 2.0 * n_ * n_ * double(n_) / (seconds_now() - t0) / 1e9);
  }
  blas::set_sgemm_library(setting);
  return best;
}

double CeilingProbe::best_gflops(int reps) {
  gflops();
  double best = 0;
  for (int i = 0; i < reps; ++i) best = std::max(best, gflops());
  return best;
}

double sgemm_ceiling_gflops(int threads, int n, int reps) { return CeilingProbe(threads, n).best_gflops(reps); }

}  // namespace imx::bench
