// The unfused estimator on a vendor GEMM (cuBLAS in blas_cuda.cpp), written once over two
// callables so that its host logic also runs in the emulation tests with a CPU GEMM:
//
//   S  = G L^T            one GEMM into the workspace (R x C floats)
//   the estimator on S    scores_async: the sweeps of losses/mi_cuda read S and write dS in
//                         place (loss sums / row statistics, combine, dS: no products)
//   dL = dS^T G           one GEMM (skipped when grad_local is null)
//   dG = dS L             one GEMM (skipped when grad_global is null)
//
// Everything is row-major in this project; cuBLAS is column-major. A row-major X (r x c,
// leading dimension ld) is the column-major X^T with the same ld, so each product is issued as
// its transpose: row-major C = A B becomes column-major C^T = B^T A^T over the same buffers.
// The ColMajorGemm descriptors below are exactly the cublasGemmEx arguments.
#pragma once
#include <cstddef>
#include <cstdint>

#include "losses/mi/mi.h"

namespace imx::mi::blas_path {

// C (m x n, column-major, ldc) = op(A) op(B) with op(A) m x k and op(B) k x n; beta = 0.
struct ColMajorGemm {
  bool trans_a, trans_b;
  int64_t m, n, k;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
};

// S (R x C, row-major) = G (R x D) L^T (L: C x D): column-major S^T (C x R) = L G^T, where the
// stored L is the column-major D x C matrix L^T (so op = T) and G is G^T (D x R, op = N).
inline ColMajorGemm score_gemm(const Problem& pb, const float* local, const float* global, float* scores) {
  return {true, false, pb.cols(), pb.rows(), pb.D, local, pb.D, global, pb.D, scores, pb.cols()};
}

// dL (C x D) = dS^T G: column-major dL^T (D x C) = G^T dS, with G^T stored as is (D x R, N)
// and dS stored as dS^T (C x R, ld C), so op = T.
inline ColMajorGemm dlocal_gemm(const Problem& pb, const float* ds, const float* global, float* grad_local) {
  return {false, true, pb.D, pb.cols(), pb.rows(), global, pb.D, ds, pb.cols(), grad_local, pb.D};
}

// dG (R x D) = dS L: column-major dG^T (D x R) = L^T dS^T, both stored as needed (op = N).
inline ColMajorGemm dglobal_gemm(const Problem& pb, const float* ds, const float* local, float* grad_global) {
  return {false, false, pb.D, pb.rows(), pb.cols(), local, pb.D, ds, pb.cols(), grad_global, pb.D};
}

// Bytes of the score matrix region (256-byte aligned, so the estimator's workspace after it is).
inline std::size_t score_bytes(const Problem& pb) {
  return (std::size_t(pb.rows()) * std::size_t(pb.cols()) * sizeof(float) + 255) / 256 * 256;
}

// The path: gemm(const ColMajorGemm&) enqueues a product; scores(S, dS or null, ws) runs the
// estimator over S (loss to the caller's loss pointer, dS times grad_scale in place).
// `workspace` starts with the score region; the estimator's workspace follows it.
template <class Gemm, class Scores>
void run(const Problem& pb, const float* local, const float* global, float* grad_local, float* grad_global,
         unsigned char* workspace, Gemm&& gemm, Scores&& scores) {
  float* const S = reinterpret_cast<float*>(workspace);
  const bool grads = grad_local != nullptr || grad_global != nullptr;
  gemm(score_gemm(pb, local, global, S));
  scores(static_cast<const float*>(S), grads ? S : nullptr, workspace + score_bytes(pb));
  if (grad_local != nullptr) gemm(dlocal_gemm(pb, S, global, grad_local));
  if (grad_global != nullptr) gemm(dglobal_gemm(pb, S, local, grad_global));
}

}  // namespace imx::mi::blas_path
