// Max-pooling forward and backward against the CPU backend, bit for bit: integer inputs from a
// small range make ties common, so the "first maximum wins" rule and the padding rule are both
// exercised, and the backward's gathered sums follow the CPU's order exactly.
#include "tests/kernels/kernel_test_util.h"

namespace imx::kernel_test {
namespace {

PoolGeometry pool_geometry(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t stride,
                           int64_t pad) {
  return PoolGeometry{n, c, h, w, k, stride, pad, (h + 2 * pad - k) / stride + 1,
                      (w + 2 * pad - k) / stride + 1};
}

TEST_CASE("maxpool2d forward and backward match the CPU backend", "[kernels][pool]") {
  const std::vector<PoolGeometry> full = {
      pool_geometry(2, 3, 9, 7, 3, 2, 1),   // the odd case: partial windows at both edges
      pool_geometry(2, 3, 8, 8, 2, 2, 0),   // the usual 2x2
      pool_geometry(1, 5, 11, 13, 3, 1, 1), // overlapping windows, stride 1
      pool_geometry(3, 2, 5, 5, 5, 3, 2),   // windows larger than the stride, heavy padding
      pool_geometry(4, 17, 16, 16, 3, 2, 1),// more planes than one block
  };
  const std::vector<PoolGeometry> small = {full[0], full[3]};
  for_each_schedule([&] {
    for (const PoolGeometry& g : sized(full, small)) {
      CAPTURE(g.n, g.c, g.h_in, g.w_in, g.k, g.stride, g.pad);
      const Shape x_shape{g.n, g.c, g.h_in, g.w_in}, y_shape{g.n, g.c, g.h_out, g.w_out};
      const std::vector<float> x = random_int_floats(numel(x_shape), -3, 3, 31);
      const std::vector<float> gy = random_int_floats(numel(y_shape), -20, 20, 32);
      const DeviceBuffer<float> x_dev(x), gy_dev(gy);
      DeviceBuffer<float> y_dev(numel(y_shape)), gx_dev(numel(x_shape));

      ops::maxpool2d_forward(g, x_dev.get(), y_dev.get(), nullptr);
      Tensor want_y = cpu_empty(y_shape);
      cpu_backend().maxpool2d_forward(g, cpu_tensor(x, x_shape), want_y);
      check_close(y_dev.download(), as_floats(want_y), 0.0, "maxpool2d_forward");

      ops::maxpool2d_backward(g, x_dev.get(), gy_dev.get(), gx_dev.get(), nullptr);
      Tensor want_gx = cpu_empty(x_shape);
      cpu_backend().maxpool2d_backward(g, cpu_tensor(x, x_shape), cpu_tensor(gy, y_shape), want_gx);
      check_close(gx_dev.download(), as_floats(want_gx), 0.0, "maxpool2d_backward");
    }
  });
}

}  // namespace
}  // namespace imx::kernel_test
