// Layer-norm (forward, backward, parameter gradients), log-softmax and NLL against the CPU
// backend, at geometries that take each code path (thread or warp per position; warp or block
// per row; parameter-gradient reductions as rows, columns and split) with odd sizes.
#include "tests/kernels/kernel_test_util.h"

namespace imx::kernel_test {
namespace {

TEST_CASE("layernorm forward and backward match the CPU backend", "[kernels][layernorm]") {
  const std::vector<NormGeometry> full = {
      {3, 7, 5},      // warp per position, C < 32
      {2, 5, 33},     // thread per position (inner >= 32)
      {4, 70, 1},     // [N, C] rows: warp per position, C > 32
      {1, 3, 40},     // one outer
      {3, 1030, 1},   // parameter gradients as columns (inner 1, C >= 1024)
      {2, 6, 700},    // parameter gradients split (few channels, 1400 positions)
      {1, 3, 1},      // smallest non-degenerate group (C <= 2 has a zero gradient)
  };
  const std::vector<NormGeometry> small = {{3, 7, 5}, {2, 5, 33}, {2, 6, 300}};
  for_each_schedule([&] {
    for (const NormGeometry& g : sized(full, small)) {
      CAPTURE(g.outer, g.channels, g.inner);
      const Shape x_shape{g.outer, g.channels, g.inner}, stat_shape{g.outer * g.inner},
          c_shape{g.channels};
      const std::vector<float> x = random_floats(numel(x_shape), 41, -2.0f, 3.0f);
      const std::vector<float> gamma = random_floats(g.channels, 42, 0.5f, 1.5f);
      const std::vector<float> beta = random_floats(g.channels, 43);
      const std::vector<float> gy = random_floats(numel(x_shape), 44);
      const DeviceBuffer<float> x_dev(x), gamma_dev(gamma), beta_dev(beta), gy_dev(gy);
      DeviceBuffer<float> y(numel(x_shape)), mean(numel(stat_shape)), invstd(numel(stat_shape));
      const float eps = 1e-5f;
      ops::layernorm_forward(g, x_dev.get(), gamma_dev.get(), beta_dev.get(), eps, y.get(),
                             mean.get(), invstd.get(), nullptr);
      Tensor want_y = cpu_empty(x_shape), want_mean = cpu_empty(stat_shape),
             want_invstd = cpu_empty(stat_shape);
      cpu_backend().layernorm_forward(g, cpu_tensor(x, x_shape), cpu_tensor(gamma, c_shape),
                                      cpu_tensor(beta, c_shape), eps, want_y, want_mean, want_invstd);
      // float32 statistics over at most 1030 channels (two-pass, so no cancellation).
      check_close(y.download(), as_floats(want_y), 1e-5, "layernorm y");
      check_close(mean.download(), as_floats(want_mean), 1e-5, "layernorm mean");
      check_close(invstd.download(), as_floats(want_invstd), 1e-5, "layernorm invstd");

      // The backward from the CPU's statistics, so that only the backward is compared.
      const std::vector<float> mean_ref = as_floats(want_mean), invstd_ref = as_floats(want_invstd);
      const DeviceBuffer<float> mean_dev(mean_ref), invstd_dev(invstd_ref);
      DeviceBuffer<float> gx(numel(x_shape)), ggamma(g.channels), gbeta(g.channels);
      layernorm_backward(g, x_dev.get(), gamma_dev.get(), mean_dev.get(), invstd_dev.get(),
                              gy_dev.get(), gx.get(), ggamma.get(), gbeta.get());
      Tensor want_gx = cpu_empty(x_shape), want_ggamma = cpu_empty(c_shape),
             want_gbeta = cpu_empty(c_shape);
      cpu_backend().layernorm_backward(g, cpu_tensor(x, x_shape), cpu_tensor(gamma, c_shape),
                                       cpu_tensor(mean_ref, stat_shape),
                                       cpu_tensor(invstd_ref, stat_shape), cpu_tensor(gy, x_shape),
                                       want_gx, want_ggamma, want_gbeta);
      // gx subtracts two channel means from gh: a few ulps of the largest term.
      check_close(gx.download(), as_floats(want_gx), 2e-5, "layernorm gx");
      // Sums over up to 1400 positions in float32 (chunks of <= 64 + warp tree + second pass).
      check_close(ggamma.download(), as_floats(want_ggamma), 2e-5, "layernorm ggamma");
      check_close(gbeta.download(), as_floats(want_gbeta), 2e-5, "layernorm gbeta");
    }
  });
}

void check_log_softmax(int64_t rows, int64_t cols) {
  CAPTURE(rows, cols);
  const Shape shape{rows, cols};
  const std::vector<float> x = random_floats(rows * cols, 50 + cols, -8.0f, 8.0f);
  const std::vector<float> gy = random_floats(rows * cols, 51 + cols);
  const DeviceBuffer<float> x_dev(x), gy_dev(gy);
  DeviceBuffer<float> y(rows * cols), gx(rows * cols);
  ops::log_softmax_forward(x_dev.get(), y.get(), rows, cols, nullptr);
  Tensor want_y = cpu_empty(shape), want_gx = cpu_empty(shape);
  cpu_backend().log_softmax_forward(cpu_tensor(x, shape), want_y);
  // log-probabilities down to about -16 - log(cols): float32 rounding of the log-sum-exp.
  check_close(y.download(), as_floats(want_y), 1e-6, "log_softmax_forward");

  const std::vector<float> y_ref = as_floats(want_y);
  const DeviceBuffer<float> y_ref_dev(y_ref);
  ops::log_softmax_backward(y_ref_dev.get(), gy_dev.get(), gx.get(), rows, cols, nullptr);
  cpu_backend().log_softmax_backward(cpu_tensor(y_ref, shape), cpu_tensor(gy, shape), want_gx);
  // sum(gy) over up to 1100 values in float32, times a probability.
  check_close(gx.download(), as_floats(want_gx), 1e-5, "log_softmax_backward");
}

TEST_CASE("log-softmax matches the CPU backend on both sides of the warp/block switch",
          "[kernels][softmax]") {
  // Every boundary of the warp (<= 1024 columns) and block (256 threads) variants, under every
  // schedule.
  const std::vector<int64_t> full = {1, 2, 31, 32, 33, 255, 256, 257, 1023, 1024, 1025, 1100, 2049};
  const std::vector<int64_t> small = {1, 33, 1025};
  for_each_schedule([&] {
    for (int64_t cols : sized(full, small)) check_log_softmax(kSanitized ? 2 : 5, cols);
  });
  if (!kSanitized) {
    // Every column count from 1 to 1100, in order.
    in_order([] {
      for (int64_t cols = 1; cols <= 1100; ++cols) check_log_softmax(5, cols);
    });
    for_each_schedule([] { check_log_softmax(300, 77); });  // many rows: grid-stride over warps
  }
}

TEST_CASE("nll forward and backward match the CPU backend", "[kernels][softmax]") {
  const std::vector<std::pair<int64_t, int64_t>> full = {{1, 1}, {5, 7}, {257, 10}, {1000, 33}};
  const std::vector<std::pair<int64_t, int64_t>> small = {{5, 7}, {257, 10}};
  for_each_schedule([&] {
    for (auto [rows, cols] : sized(full, small)) {
      CAPTURE(rows, cols);
      const Shape shape{rows, cols};
      const std::vector<float> logp = random_floats(rows * cols, 60, -9.0f, 0.0f);
      const std::vector<int32_t> labels = random_ints(rows, 0, static_cast<int>(cols - 1), 61);
      const DeviceBuffer<float> logp_dev(logp);
      const DeviceBuffer<int32_t> labels_dev(labels);

      DeviceBuffer<float> loss(1);
      ops::nll_forward(logp_dev.get(), labels_dev.get(), rows, cols, loss.get(), nullptr);
      const double want_loss = cpu_nll(logp, shape, labels);
      // A float32 block sum of up to 1000 values in (-9, 0].
      check_close(loss.download(), {static_cast<float>(want_loss)}, 1e-6, "nll_forward");

      // The upstream gradient is a device float read by the kernel; 1/3 is inexact, so the
      // kernel must divide in double as the CPU backend does to match it bit for bit.
      for (const float up : {0.75f, 1.0f / 3.0f, -2.5f}) {
        CAPTURE(up);
        const DeviceBuffer<float> up_dev(std::vector<float>{up});
        DeviceBuffer<float> glogp(rows * cols);
        ops::nll_backward(labels_dev.get(), rows, cols, up_dev.get(), glogp.get(), nullptr);
        Tensor want_glogp = cpu_empty(shape);
        cpu_backend().nll_backward(labels, cpu_tensor({up}, {}), want_glogp);
        check_close(glogp.download(), as_floats(want_glogp), 0.0, "nll_backward");
      }
    }
  });
}

}  // namespace
}  // namespace imx::kernel_test
