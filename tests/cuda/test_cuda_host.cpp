// The CUDA backend's host-side rules, checked without a device: the arguments it gives cuBLAS
// and cuDNN (engine/cuda/call_args.h) and the settings it reads from the environment.
#include <catch.hpp>

#include <cstdlib>
#include <string>

#include "engine/cuda/call_args.h"
#include "engine/cuda/cuda_backend.h"

using namespace imx;
using namespace imx::cuda_detail;

TEST_CASE("cuBLAS leading dimensions are at least 1, and k = 0 never reaches cuBLAS", "[cuda][host]") {
  // [3,5] x [5,4]: lda = 5, ldb = 4, ldc = 4 (row-major widths).
  GemmArgs g = gemm_args(false, 3, 5, 4, 3, 4);
  CHECK((g.m == 3 && g.n == 4 && g.k == 5 && g.lda == 5 && g.ldb == 4 && g.ldc == 4));
  CHECK_FALSE(g.scale_only);
  // A^T with A [5,3]: k is A's rows.
  g = gemm_args(true, 5, 3, 4, 3, 4);
  CHECK((g.k == 5 && g.lda == 3));
  // [3,0] x [0,4]: widths 0 and 4; cuBLAS would reject lda = 0.
  g = gemm_args(false, 3, 0, 4, 3, 4);
  CHECK(g.k == 0);
  CHECK(g.lda == 1);
  CHECK(g.scale_only);
  CHECK_FALSE(g.empty);
  // Transposed operands with k = 0: A^T of [0,3], B^T of [4,0].
  g = gemm_args(true, 0, 3, 0, 3, 4);
  CHECK((g.k == 0 && g.ldb == 1 && g.scale_only));
  // An empty result: nothing at all.
  g = gemm_args(false, 0, 5, 4, 0, 4);
  CHECK(g.empty);
  CHECK_FALSE(g.scale_only);
}

namespace {

cudnnConvolutionFwdAlgoPerf_t perf(cudnnConvolutionFwdAlgo_t algo, cudnnStatus_t status, cudnnMathType_t math,
                                   size_t memory) {
  cudnnConvolutionFwdAlgoPerf_t p{};
  p.algo = algo;
  p.status = status;
  p.mathType = math;
  p.memory = memory;
  return p;
}

}  // namespace

TEST_CASE("the cuDNN algorithm runs with the math type its heuristic result names", "[cuda][host]") {
  const cudnnConvolutionFwdAlgoPerf_t ranked[] = {
      perf(CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, CUDNN_STATUS_NOT_SUPPORTED, CUDNN_FMA_MATH, 0),
      perf(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, CUDNN_STATUS_SUCCESS,
           CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, 1 << 20),
      perf(CUDNN_CONVOLUTION_FWD_ALGO_GEMM, CUDNN_STATUS_SUCCESS, CUDNN_FMA_MATH, 4096),
  };
  // TF32 allowed: the first usable result, with its own math type.
  AlgoChoice c = choose_algorithm(ranked, 3, true, "test");
  CHECK(c.index == 1);
  CHECK(c.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
  // TF32 off: results that may convert are passed over.
  c = choose_algorithm(ranked, 3, false, "test");
  CHECK(c.index == 2);
  CHECK(c.math == CUDNN_FMA_MATH);
  // TF32 off and only converting results: the first usable one, forced to FMA math.
  c = choose_algorithm(ranked, 2, false, "test");
  CHECK(c.index == 1);
  CHECK(c.math == CUDNN_FMA_MATH);
  CHECK_THROWS_WITH(choose_algorithm(ranked, 1, true, "conv2d forward"),
                    Catch::Contains("no usable algorithm for conv2d forward"));
}

TEST_CASE("batch-norm's epsilon is the same in both directions, clamped as cuDNN clamps it", "[cuda][host]") {
  CHECK(batchnorm_epsilon(0.5) == 0.5);
  CHECK(batchnorm_epsilon(1e-5) == 1e-5);
  CHECK(batchnorm_epsilon(0.0) == CUDNN_BN_MIN_EPSILON);
}

namespace {

// Sets (or, with null, unsets) an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* value) : name(n) {
    if (value) setenv(n, value, 1);
    else unsetenv(n);
  }
  ~ScopedEnv() { unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("IMX_CUDA_SYNC and IMX_CUDA_ALLOCATOR select the debug mode and the pass-through allocator",
          "[cuda][host]") {
  {
    ScopedEnv sync("IMX_CUDA_SYNC", nullptr), alloc("IMX_CUDA_ALLOCATOR", nullptr), tf32("IMX_CUDA_TF32", nullptr);
    const CudaOptions o = cuda_options_from_env();
    CHECK_FALSE(o.sync_each_op);
    CHECK(o.caching);
    CHECK_FALSE(o.allow_tf32);
  }
  {
    ScopedEnv sync("IMX_CUDA_SYNC", "1"), alloc("IMX_CUDA_ALLOCATOR", "passthrough");
    const CudaOptions o = cuda_options_from_env();
    CHECK(o.sync_each_op);
    CHECK_FALSE(o.caching);
  }
  {
    ScopedEnv sync("IMX_CUDA_SYNC", "0"), alloc("IMX_CUDA_ALLOCATOR", "caching");
    const CudaOptions o = cuda_options_from_env();
    CHECK_FALSE(o.sync_each_op);
    CHECK(o.caching);
  }
  {
    ScopedEnv alloc("IMX_CUDA_ALLOCATOR", "none");
    CHECK_THROWS_WITH(cuda_options_from_env(), Catch::Contains("IMX_CUDA_ALLOCATOR is 'none'"));
  }
  // The allocator's modes, without allocating: pass-through keeps exact sizes.
  CHECK(CachingAllocator(false).caching() == false);
  CHECK(CachingAllocator().caching());
}
