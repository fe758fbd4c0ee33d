// Matrix products through Eigen, with Eigen's own products handed to OpenBLAS
// (EIGEN_USE_BLAS), which measures faster on these machines (see bench/engine).
#define EIGEN_USE_BLAS
#include <Eigen/Dense>

#include "engine/cpu/cpu_backend.h"

namespace imx {

template <class T>
void cpu_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
              const T* b, T beta, T* c) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const Mat>;
  Eigen::Map<Mat> C(c, m, n);
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == T(0)) C.setZero();
    else C *= beta;
    return;
  }
  // A stored [m,k] or, transposed, [k,m]; likewise B.
  const CMap A(a, trans_a ? k : m, trans_a ? m : k);
  const CMap B(b, trans_b ? n : k, trans_b ? k : n);
  // beta == 0 assigns (no pass over C first); otherwise scale, then accumulate.
  auto apply = [&](const auto& product) {
    if (beta == T(0)) {
      C.noalias() = alpha * product;
    } else {
      if (beta != T(1)) C *= beta;
      C.noalias() += alpha * product;
    }
  };
  if (!trans_a && !trans_b) apply(A * B);
  else if (trans_a && !trans_b) apply(A.transpose() * B);
  else if (!trans_a && trans_b) apply(A * B.transpose());
  else apply(A.transpose() * B.transpose());
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
