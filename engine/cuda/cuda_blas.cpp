// Row-major products through cuBLAS (column-major): C = op(A) op(B) is computed as
// C^T = op(B)^T op(A)^T, which cuBLAS sees as its own column-major product of the same buffers.
// The arguments (and the k = 0 case cuBLAS must not see) come from call_args.h.
#include "engine/cuda/call_args.h"
#include "engine/cuda/check.h"
#include "engine/cuda/cuda_backend.h"

namespace imx {

void CudaBackend::gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b,
                       double beta, Tensor& c) {
  check(c.dtype() == DType::F32, "cuda gemm", "float32 only, got " + c.describe());
  const cuda_detail::GemmArgs g =
      cuda_detail::gemm_args(trans_a, a.size(0), a.size(1), b.size(1), c.size(0), c.size(1));
  if (g.empty) return;
  if (g.scale_only) {  // an empty sum: C = beta * C (beta = 0 must not read C, which may be NaN)
    if (beta == 0.0) fill(c, 0.0);
    else affine(c, beta, 0.0, c);
    return;
  }
  const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
  IMX_CUBLAS_CHECK(cublasSgemm(blas_, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                               trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, g.n, g.m, g.k, &al,
                               static_cast<const float*>(b.raw()), g.ldb,
                               static_cast<const float*>(a.raw()), g.lda, &be,
                               static_cast<float*>(c.raw()), g.ldc));
  op_done(__func__);
}

}  // namespace imx
