// CPU matrix products for the whole project (the engine's CPU backend, the MI losses, the
// benchmarks' ceiling): row-major C = alpha op(A) op(B) + beta C in float and double, each
// float product routed to oneDNN's or OpenBLAS's sgemm by its shape (gemm.cpp says which and
// why), and a scoped setting of the products' thread count.
#pragma once
#include <cstdint>

namespace imx::blas {

// C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T; M x N result, inner size K.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// Which library runs float products. `automatic` (the default) picks per product by shape;
// the others force one, for benchmarks and for comparing results. Set from IMX_SGEMM
// (auto, openblas, onednn) at first use, or with set_sgemm_library.
enum class SgemmLibrary { automatic, openblas, onednn };
SgemmLibrary sgemm_library();
void set_sgemm_library(SgemmLibrary library);
// Whether this build has oneDNN (found by CMake); without it every product is OpenBLAS's.
bool have_onednn();
// The library `automatic` picks for this product: from its shape alone, so that its result
// does not depend on the thread count.
SgemmLibrary sgemm_choice(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K);
const char* sgemm_library_name(SgemmLibrary library);

// Sets the thread count of products called outside a parallel region for the lifetime of the
// object, then restores it. Process-wide for OpenBLAS; oneDNN takes the calling thread's OpenMP
// setting, which this also sets. Inside an OpenMP parallel region both libraries run a product
// on the calling thread alone.
class ScopedThreads {
 public:
  explicit ScopedThreads(int threads);
  ~ScopedThreads();
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int saved_blas_, saved_omp_;
};

}  // namespace imx::blas
