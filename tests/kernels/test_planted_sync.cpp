// The harness can fail: softmax.cu compiled with the block reduction's first __syncthreads
// removed (IMX_PLANT_MISSING_SYNC) gives wrong log-softmax rows and a wrong NLL loss, and the
// comparison with the CPU backend catches it under every standard schedule. (The correct
// build of the same source passes the same comparisons in kernel_ops_tests.)
#include "tests/kernels/kernel_test_util.h"

namespace imx::kernel_test {
namespace {

// Largest |kernel - CPU| of log_softmax_forward over a [5, 1100] input (block-per-row path).
double log_softmax_error() {
  const int64_t rows = 5, cols = 1100;
  const std::vector<float> x = random_floats(rows * cols, 90, -8.0f, 8.0f);
  const DeviceBuffer<float> x_dev(x);
  DeviceBuffer<float> y(rows * cols);
  ops::log_softmax_forward(x_dev.get(), y.get(), rows, cols, nullptr);
  Tensor want = cpu_empty({rows, cols});
  cpu_backend().log_softmax_forward(cpu_tensor(x, {rows, cols}), want);
  const std::vector<float> got = y.download();
  const std::vector<double> ref = want.to_vector();
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double diff = std::abs(got[i] - ref[i]);
    worst = std::isnan(diff) ? INFINITY : std::max(worst, diff);
  }
  return worst;
}

// |kernel - CPU| of nll_forward over 1000 rows (one block reduction).
double nll_error() {
  const int64_t rows = 1000, cols = 9;
  const std::vector<float> logp = random_floats(rows * cols, 91, -9.0f, 0.0f);
  const std::vector<int32_t> labels = random_ints(rows, 0, cols - 1, 92);
  const DeviceBuffer<float> logp_dev(logp);
  const DeviceBuffer<int32_t> labels_dev(labels);
  DeviceBuffer<float> loss(1);
  ops::nll_forward(logp_dev.get(), labels_dev.get(), rows, cols, loss.get(), nullptr);
  return std::abs(loss.download()[0] - cpu_nll(logp, {rows, cols}, labels));
}

TEST_CASE("a block reduction missing its __syncthreads fails the CPU comparison",
          "[kernels][planted]") {
  // The correct kernels are within 1e-5 of the CPU on these inputs (kernel_ops_tests); the
  // planted ones are off by units. Log-softmax runs two reductions per row over five rows, so
  // stale partials show in every order. The single NLL reduction reads stale partials only
  // when warp 0 runs ahead of other warps: in order yes, in reverse order never; the random
  // orders are why both kinds of schedule exist. Partials read before any warp wrote them are
  // the emulation's poisoned shared memory: NaN, which counts as caught.
  int nll_caught = 0;
  for_each_schedule([&] {
    const double softmax = log_softmax_error(), nll = nll_error();
    // Printed so that the failure the harness sees can be quoted (kernels/ops/README.md).
    WARN("planted missing __syncthreads under " << imx::simt::schedule().to_string()
         << ": log_softmax max error " << softmax << ", nll error " << nll);
    CHECK(softmax > 1e-2);
    nll_caught += !(nll <= 1e-2);
  });
  CHECK(nll_caught >= 2);
}

}  // namespace
}  // namespace imx::kernel_test
