// Row-major matrix products through OpenBLAS's CBLAS, for float and double, and a scoped
// setting of OpenBLAS's thread count (the fused kernel runs single-threaded products inside its
// own OpenMP threads; the unfused/naive paths let OpenBLAS thread the big products).
#pragma once
#include <cstdint>

namespace imx::mi::blas {

// C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T; M x N result, inner size K.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// Sets OpenBLAS's thread count for the lifetime of the object, then restores it. Process-wide:
// other threads calling OpenBLAS meanwhile see the same setting.
class ScopedThreads {
 public:
  explicit ScopedThreads(int threads);
  ~ScopedThreads();
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int saved_;
};

}  // namespace imx::mi::blas
