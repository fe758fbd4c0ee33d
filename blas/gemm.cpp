#include "blas/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

#ifdef IMX_HAVE_ONEDNN
#include <dnnl.h>
#endif

namespace imx::blas {
namespace {

// CBLAS takes 32-bit sizes; refuse rather than silently truncate.
int to_blas_int(int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<int>::max())
    throw std::length_error(std::string("gemm: ") + what + " = " + std::to_string(v) +
                            " does not fit BLAS's 32-bit sizes");
  return static_cast<int>(v);
}

CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }

SgemmLibrary library_from_env() {
  const char* v = std::getenv("IMX_SGEMM");
  if (!v || std::string(v).empty() || std::string(v) == "auto") return SgemmLibrary::automatic;
  if (std::string(v) == "openblas") return SgemmLibrary::openblas;
  if (std::string(v) == "onednn") {
    if (!have_onednn()) throw std::runtime_error("IMX_SGEMM=onednn: this build has no oneDNN (install libdnnl-dev, rebuild)");
    return SgemmLibrary::onednn;
  }
  throw std::runtime_error(std::string("IMX_SGEMM=") + v + ": expected auto, openblas or onednn");
}

std::atomic<SgemmLibrary>& library_setting() {
  static std::atomic<SgemmLibrary> setting{library_from_env()};
  return setting;
}

void openblas_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, op(ta), op(tb), to_blas_int(M, "M"), to_blas_int(N, "N"), to_blas_int(K, "K"), alpha,
              A, to_blas_int(lda, "lda"), B, to_blas_int(ldb, "ldb"), beta, C, to_blas_int(ldc, "ldc"));
}

}  // namespace

bool have_onednn() {
#ifdef IMX_HAVE_ONEDNN
  return true;
#else
  return false;
#endif
}

SgemmLibrary sgemm_library() { return library_setting().load(); }
void set_sgemm_library(SgemmLibrary library) {
  if (library == SgemmLibrary::onednn && !have_onednn())
    throw std::runtime_error("set_sgemm_library(onednn): this build has no oneDNN");
  library_setting().store(library);
}

const char* sgemm_library_name(SgemmLibrary library) {
  switch (library) {
    case SgemmLibrary::automatic: return "auto";
    case SgemmLibrary::openblas: return "openblas";
    case SgemmLibrary::onednn: return "onednn";
  }
  return "?";
}

// Measured one product at a time on the project's 2-core machines (AMD Zen 4, AVX-512; both
// libraries at their best of 15): oneDNN's sgemm is 8-10% faster at 2048^3 and 15-50% faster on
// most of a DIM training step's products (the critic's K or N = 128 layers, fc0 with M = 64,
// the conv products). It is 1.5-2.5x slower on A B^T with a small M (64 x 1024, K = 4096: 62
// against 118 GFLOP/s on both threads; 64 x 48, K = 8192: 32 against 89 on one), and there it
// also splits K between threads, so that its result changes with the thread count. It is behind
// with K < 64 on one thread and on products of a few MFLOP. Those go to OpenBLAS. The rule
// reads the shape only, never the thread count: a product gives the same bits on 1 thread as on
// 2 (a data-parallel rank's features equal one process's; tests/blas checks it).
SgemmLibrary sgemm_choice(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K) {
  if (!have_onednn()) return SgemmLibrary::openblas;
  if (double(M) * double(N) * double(K) < double(1 << 22)) return SgemmLibrary::openblas;
  if (trans_b && !trans_a && M < 2048) return SgemmLibrary::openblas;
  if (K < 64) return SgemmLibrary::openblas;
  // A B^T with N = 512 and K >= 512 (the 512-unit critic's second layer): oneDNN ran 5-20% slower
  // (180 against 197 GFLOP/s at 4096 x 512, K = 512; 160 against 200 at K = 1024; 163 against 179
  // at K = 2048), while N = 256, 768, 1024, 2048 or K <= 384 ran 5-35% faster on oneDNN.
  if (trans_b && !trans_a && N == 512 && K >= 512) return SgemmLibrary::openblas;
  return SgemmLibrary::onednn;
}

template <>
void gemm<float>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  SgemmLibrary library = sgemm_library();
  if (library == SgemmLibrary::automatic) library = sgemm_choice(ta, tb, M, N, K);
#ifdef IMX_HAVE_ONEDNN
  if (library == SgemmLibrary::onednn) {
    // oneDNN's sgemm is row-major, like the rest of this file.
    const dnnl_status_t status =
        dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (status != dnnl_success)
      throw std::runtime_error("gemm: dnnl_sgemm failed (status " + std::to_string(int(status)) + ") for M=" +
                               std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K));
    return;
  }
#endif
  openblas_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <>
void gemm<double>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                  int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, op(ta), op(tb), to_blas_int(M, "M"), to_blas_int(N, "N"),
              to_blas_int(K, "K"), alpha, A, to_blas_int(lda, "lda"), B, to_blas_int(ldb, "ldb"),
              beta, C, to_blas_int(ldc, "ldc"));
}

ScopedThreads::ScopedThreads(int threads) : saved_blas_(openblas_get_num_threads()), saved_omp_(omp_get_max_threads()) {
  if (threads != saved_blas_) openblas_set_num_threads(threads);
  if (threads != saved_omp_) omp_set_num_threads(threads);
}

ScopedThreads::~ScopedThreads() {
  if (openblas_get_num_threads() != saved_blas_) openblas_set_num_threads(saved_blas_);
  if (omp_get_max_threads() != saved_omp_) omp_set_num_threads(saved_omp_);
}

}  // namespace imx::blas
