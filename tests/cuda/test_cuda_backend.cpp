// The whole CUDA backend (hand-written kernels, cuBLAS, cuDNN), op by op against the CPU
// backend: every gradient-checker case runs forward and backward on both, in float32, and the
// outputs and input gradients must agree. Needs a device: without one the binary exits 77
// (cmake/cuda_test_main.cpp), which ctest reports as skipped (never as passed).
#include <catch.hpp>

#include "engine/backend.h"
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
