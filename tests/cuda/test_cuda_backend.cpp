// The whole CUDA backend (hand-written kernels, cuBLAS, cuDNN), op by op against the CPU
// backend: every gradient-checker case runs forward and backward on both, in float32, and the
// outputs and input gradients must agree. Needs a device: without one the binary exits 77
// (cmake/cuda_test_main.cpp), which ctest reports as skipped (never as passed).
#include <catch.hpp>

#include "engine/backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "tools/gradcheck/gradcheck.h"

using namespace imx;

namespace {

struct Run {
  std::vector<double> out;
  std::vector<std::vector<double>> grads;
};

// Forward and backward of one case on a device, from the same float64 inputs.
Run run_case(const gradcheck::Case& c, const std::vector<Tensor>& inputs64, Device dev) {
  std::vector<Tensor> xs;
  for (const auto& x : inputs64) {
    Tensor t = x.detach().to(DType::F32).to(dev);
    if (x.requires_grad()) t.set_requires_grad(true);
    xs.push_back(t);
  }
  Tensor y = c.forward(xs);
  Tensor w = Tensor::full(y.shape(), 1.0, DType::F32, dev);
  sum(mul(y, w)).backward();
  Run r{y.to_vector(), {}};
  for (const auto& x : xs)
    r.grads.push_back(x.requires_grad() && x.grad().defined() ? x.grad().to_vector()
                                                              : std::vector<double>{});
  return r;
}

double rel_error(const std::vector<double>& a, const std::vector<double>& b) {
  double err = 0, scale = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return err / scale;
}

}  // namespace

TEST_CASE("every op: CUDA backend matches the CPU backend (float32)", "[cuda]") {
  for (const auto& c : gradcheck::engine_cases()) {
    const std::vector<Tensor> inputs = c.inputs();
    const Run cpu = run_case(c, inputs, Device::CPU);
    const Run gpu = run_case(c, inputs, Device::CUDA);
    INFO(c.op << " " << c.shape);
    REQUIRE(gpu.out.size() == cpu.out.size());
    CHECK(rel_error(gpu.out, cpu.out) < 1e-4);
    for (size_t i = 0; i < cpu.grads.size(); ++i) {
      REQUIRE(gpu.grads[i].size() == cpu.grads[i].size());
      CHECK(rel_error(gpu.grads[i], cpu.grads[i]) < 1e-4);
    }
  }
}

TEST_CASE("large products and convolutions match (cuBLAS, cuDNN)", "[cuda]") {
  Generator g1(1), g2(1);
  Tensor a = uniform({300, 517}, -1, 1, g1), b = uniform({517, 211}, -1, 1, g1);
  CHECK(rel_error(matmul(a.to(Device::CUDA), b.to(Device::CUDA)).to_vector(),
                  matmul(a, b).to_vector()) < 1e-4);
  Tensor x = uniform({64, 64, 16, 16}, -1, 1, g2), w = uniform({128, 64, 4, 4}, -0.1, 0.1, g2);
  CHECK(rel_error(conv2d(x.to(Device::CUDA), w.to(Device::CUDA), {}, 2, 1).to_vector(),
                  conv2d(x, w, {}, 2, 1).to_vector()) < 1e-4);
}

TEST_CASE("the Philox stream is identical on CPU and CUDA", "[cuda]") {
  Generator a(7), b(7);
  CHECK(uniform({1001}, 0, 1, a, DType::F32, Device::CUDA).to_vector() ==
        uniform({1001}, 0, 1, b, DType::F32, Device::CPU).to_vector());
}

TEST_CASE("float64 on CUDA is refused with a clear error", "[cuda]") {
  CHECK_THROWS_WITH(Tensor::zeros({3}, DType::F64, Device::CUDA), Catch::Contains("float32"));
}

TEST_CASE("the Philox stream agrees for bounds that are not float values", "[cuda]") {
  // The CUDA launcher takes the bounds in double as the CPU backend does; with float bounds
  // 0.1 and 1/3 would round first and the two streams would differ by an ulp.
  Generator a(11), b(11);
  CHECK(uniform({1001}, 0.1, 1.0 / 3.0, a, DType::F32, Device::CUDA).to_vector() ==
        uniform({1001}, 0.1, 1.0 / 3.0, b, DType::F32, Device::CPU).to_vector());
}

TEST_CASE("products with an empty inner dimension are zeros, not a cuBLAS error", "[cuda]") {
  // k = 0: A is [3, 0] and B is [0, 4]; their row-major widths would be leading dimensions of
  // 0, which cuBLAS rejects. The result is an empty sum.
  for (const bool trans : {false, true}) {
    CAPTURE(trans);
    const Tensor a = trans ? Tensor::zeros({0, 3}, DType::F32, Device::CUDA) : Tensor::zeros({3, 0}, DType::F32, Device::CUDA);
    const Tensor b = trans ? Tensor::zeros({4, 0}, DType::F32, Device::CUDA) : Tensor::zeros({0, 4}, DType::F32, Device::CUDA);
    const Tensor c = matmul(a, b, trans, trans);
    REQUIRE(c.shape() == Shape{3, 4});
    CHECK(c.to_vector() == std::vector<double>(12, 0.0));
  }
}

TEST_CASE("batch-norm backward with a large epsilon matches the CPU", "[cuda]") {
  // cuDNN's backward gets the forward's epsilon (not CUDNN_BN_MIN_EPSILON): with eps = 0.5 a
  // mismatch between the two would show in every gradient.
  Generator g(5);
  const Tensor x64 = uniform({6, 3, 5, 4}, -2, 2, g, DType::F64);
  const auto run = [&](Device dev) {
    Tensor x = x64.to(DType::F32).to(dev);
    x.set_requires_grad(true);
    Tensor gamma = Tensor::full({3}, 1.5, DType::F32, dev), beta = Tensor::zeros({3}, DType::F32, dev);
    gamma.set_requires_grad(true);
    Tensor rm = Tensor::zeros({3}, DType::F32, dev), rv = Tensor::full({3}, 1.0, DType::F32, dev);
    Tensor y = batch_norm(x, gamma, beta, rm, rv, true, 0.1, 0.5);
    Generator gw(9);
    Tensor w = uniform(y.shape(), -1, 1, gw, DType::F32, dev);
    sum(mul(y, w)).backward();
    return std::make_pair(x.grad().to_vector(), gamma.grad().to_vector());
  };
  const auto cpu = run(Device::CPU), gpu = run(Device::CUDA);
  CHECK(rel_error(gpu.first, cpu.first) < 1e-4);
  CHECK(rel_error(gpu.second, cpu.second) < 1e-4);
}

TEST_CASE("the backend's debug and allocator settings are the environment's", "[cuda]") {
  // tools/gpu/run.sh runs this binary under compute-sanitizer with IMX_CUDA_ALLOCATOR=passthrough.
  auto& cuda = dynamic_cast<CudaBackend&>(backend(Device::CUDA));
  const CudaOptions env = cuda_options_from_env();
  CHECK(cuda.allocator().caching() == env.caching);
  CHECK(cuda.options().sync_each_op == env.sync_each_op);
  if (!env.caching) {
    // Pass-through: an allocation is a cudaMalloc of exactly its size, released at once.
    const auto before = cuda.allocator().stats();
    { const Tensor t = Tensor::zeros({1001}, DType::F32, Device::CUDA); }
    const auto after = cuda.allocator().stats();
    CHECK(after.cuda_mallocs == before.cuda_mallocs + 1);
    CHECK(after.bytes_in_use == before.bytes_in_use);
    CHECK(after.bytes_cached == 0);
  }
}
