#include "losses/mi/blas.h"

#include <cblas.h>

#include <limits>
#include <stdexcept>
#include <string>

namespace imx::mi::blas {
namespace {

// CBLAS takes 32-bit sizes; refuse rather than silently truncate.
int to_blas_int(int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<int>::max())
    throw std::length_error(std::string("mi: gemm ") + what + " = " + std::to_string(v) +
                            " does not fit BLAS's 32-bit sizes");
  return static_cast<int>(v);
}

CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }

}  // namespace

template <>
void gemm<float>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, op(ta), op(tb), to_blas_int(M, "M"), to_blas_int(N, "N"),
              to_blas_int(K, "K"), alpha, A, to_blas_int(lda, "lda"), B, to_blas_int(ldb, "ldb"),
              beta, C, to_blas_int(ldc, "ldc"));
}

template <>
void gemm<double>(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                  int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, op(ta), op(tb), to_blas_int(M, "M"), to_blas_int(N, "N"),
              to_blas_int(K, "K"), alpha, A, to_blas_int(lda, "lda"), B, to_blas_int(ldb, "ldb"),
              beta, C, to_blas_int(ldc, "ldc"));
}

ScopedThreads::ScopedThreads(int threads) : saved_(openblas_get_num_threads()) {
  if (threads != saved_) openblas_set_num_threads(threads);
}

ScopedThreads::~ScopedThreads() {
  if (openblas_get_num_threads() != saved_) openblas_set_num_threads(saved_);
}

}  // namespace imx::mi::blas
