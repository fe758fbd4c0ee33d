// The arguments the CUDA backend hands to cuBLAS and cuDNN, computed by pure functions so that
// the rules the libraries impose are tested on machines without a GPU (tests/cuda/test_cuda_host.cpp).
#pragma once
#include <cudnn.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "engine/core.h"

namespace imx::cuda_detail {

// C[m,n] = op(A) op(B) (row-major) as cuBLAS's column-major C^T = op(B)^T op(A)^T.
// cuBLAS rejects a leading dimension below max(1, rows): with k = 0, A's and B's row-major
// widths are 0, so they are raised to 1; such a product is beta * C and is not sent to
// cuBLAS at all (`scale_only`).
struct GemmArgs {
  int m = 0, n = 0, k = 0;
  int lda = 1, ldb = 1, ldc = 1;
  bool empty = false;       // m == 0 or n == 0: nothing to do
  bool scale_only = false;  // k == 0: C = beta * C
};
inline GemmArgs gemm_args(bool trans_a, int64_t a_rows, int64_t a_cols, int64_t b_cols, int64_t c_rows,
                          int64_t c_cols) {
  GemmArgs g;
  g.m = static_cast<int>(c_rows);
  g.n = static_cast<int>(c_cols);
  g.k = static_cast<int>(trans_a ? a_rows : a_cols);
  g.lda = static_cast<int>(std::max<int64_t>(1, a_cols));
  g.ldb = static_cast<int>(std::max<int64_t>(1, b_cols));
  g.ldc = static_cast<int>(std::max<int64_t>(1, c_cols));
  g.empty = g.m == 0 || g.n == 0;
  g.scale_only = !g.empty && g.k == 0;
  return g;
}

// The algorithm to run from cuDNN's ranked heuristics (…_v7), and the math type to set on
// the descriptor it runs with: the one the result names. Without TF32, a result whose math
// type may convert to TF32 is passed over; if every usable result is such, the first usable
// one runs with FMA math (exact float32), which every algorithm supports.
struct AlgoChoice {
  int index = -1;
  cudnnMathType_t math = CUDNN_FMA_MATH;
};
inline bool math_allowed(cudnnMathType_t math, bool allow_tf32) {
  return allow_tf32 || math == CUDNN_FMA_MATH;
}
template <class Perf>
AlgoChoice choose_algorithm(const Perf* perf, int count, bool allow_tf32, const char* what) {
  int first_usable = -1;
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (first_usable < 0) first_usable = i;
    if (math_allowed(perf[i].mathType, allow_tf32)) return AlgoChoice{i, perf[i].mathType};
  }
  if (first_usable < 0)
    throw Error(std::string("cuda: cuDNN found no usable algorithm for ") + what + " (" + std::to_string(count) +
                " candidates)");
  return AlgoChoice{first_usable, CUDNN_FMA_MATH};
}

// cuDNN's batch-norm backward must get the epsilon its forward used; cuDNN clamps it below
// at CUDNN_BN_MIN_EPSILON, so both directions pass it through this.
inline double batchnorm_epsilon(double eps) { return std::max(eps, CUDNN_BN_MIN_EPSILON); }

}  // namespace imx::cuda_detail
