// Matrix products of the CPU backend: blas::gemm on row-major operands (oneDNN or OpenBLAS by
// shape, blas/gemm.cpp).
#include "blas/gemm.h"
#include "engine/cpu/cpu_backend.h"

namespace imx {

template <class T>
void cpu_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
              const T* b, T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // no product: C = beta C (BLAS would too, but not every library takes K = 0)
    for (int64_t i = 0; i < m * n; ++i) c[i] = beta == T(0) ? T(0) : beta * c[i];
    return;
  }
  // A stored [m,k] or, transposed, [k,m]; likewise B: leading dimensions are row lengths.
  blas::gemm<T>(trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

template void cpu_gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                              const float*, float, float*);
template void cpu_gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                               const double*, double, double*);

void CpuBackend::gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b,
                      double beta, Tensor& c) {
  const int64_t m = c.size(0), n = c.size(1);
  const int64_t k = trans_a ? a.size(0) : a.size(1);
  dispatch(c.dtype(), [&]<class T>() {
    cpu_gemm<T>(trans_a, trans_b, m, n, k, static_cast<T>(alpha), a.data<T>(), b.data<T>(),
                static_cast<T>(beta), c.data<T>());
  });
}

}  // namespace imx
