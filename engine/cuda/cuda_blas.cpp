// Row-major products through cuBLAS (column-major): C = op(A) op(B) is computed as
// C^T = op(B)^T op(A)^T, which cuBLAS sees as its own column-major product of the same buffers.
#include "engine/cuda/check.h"
#include "engine/cuda/cuda_backend.h"

namespace imx {

void CudaBackend::gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b,
                       double beta, Tensor& c) {
  check(c.dtype() == DType::F32, "cuda gemm", "float32 only, got " + c.describe());
  const int m = static_cast<int>(c.size(0)), n = static_cast<int>(c.size(1));
  const int k = static_cast<int>(trans_a ? a.size(0) : a.size(1));
  if (m == 0 || n == 0) return;
  const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
  const int lda = static_cast<int>(a.size(1)), ldb = static_cast<int>(b.size(1));
  IMX_CUBLAS_CHECK(cublasSgemm(blas_, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                               trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &al,
                               static_cast<const float*>(b.raw()), ldb,
                               static_cast<const float*>(a.raw()), lda, &be,
                               static_cast<float*>(c.raw()), n));
}

}  // namespace imx
