// Sizes beyond the grid cap, where every grid-stride loop makes further rounds: each kind of
// unit (thread, warp, block per item) and each launch shape once. Under the emulation the
// launchers' cap is lowered to 3 blocks for the test, so the rounds come at small sizes; on a
// device the sizes grow past the real cap instead.
#include "tests/kernels/kernel_test_util.h"

#include "engine/cpu/strided.h"
#if defined(IMX_SIMT_EMU)
#include "kernels/ops/common.cuh"
#endif

namespace imx::kernel_test {
namespace {

#if defined(IMX_SIMT_EMU)
constexpr int64_t kGridCap = kSanitized ? 1 : 3;
// Lowers the emulated launchers' grid cap for the lifetime of the object.
class SmallGrid {
 public:
  SmallGrid() : saved_(imx::emu::grid_cap()) { imx::emu::grid_cap() = kGridCap; }
  ~SmallGrid() { imx::emu::grid_cap() = saved_; }

 private:
  int64_t saved_;
};
#else
constexpr int64_t kGridCap = 4096;  // kMaxBlocks of kernels/ops/common.cuh
struct SmallGrid {};
#endif

// Items of `threads_per_item` threads each that need two full rounds of the capped grid of
// 256-thread blocks, half of a third, and one more (an odd count).
int64_t beyond_cap(int64_t threads_per_item) {
  const int64_t round = kGridCap * 256 / threads_per_item;
  return 2 * round + round / 2 + 1;
}

// Thread per element: affine, broadcast, gather, Philox, Adam.
void thread_units() {
  const int64_t n = beyond_cap(1);
  const std::vector<float> x = random_int_floats(n, -9, 9, 1);
  const DeviceBuffer<float> x_dev(x);
  DeviceBuffer<float> out(n);
  ops::affine(x_dev.get(), out.get(), n, 2.0f, 1.0f, nullptr);
  Tensor want = cpu_empty({n});
  cpu_backend().affine(cpu_tensor(x, {n}), 2.0, 1.0, want);
  check_close(out.download(), as_floats(want), 0.0, "affine");

  const Shape a_shape{n / 7, 7}, b_shape{1, 7};
  const std::vector<float> b = random_int_floats(7, 1, 5, 2);
  const DeviceBuffer<float> b_dev(b);
  ops::binary(Binary::Mul, x_dev.get(), to_dims(cpu::broadcast_strides(a_shape, a_shape)),
              b_dev.get(), to_dims(cpu::broadcast_strides(b_shape, a_shape)), out.get(),
              to_dims(a_shape), nullptr);
  Tensor want_mul = cpu_empty(a_shape);
  cpu_backend().binary(Binary::Mul, cpu_tensor({x.begin(), x.begin() + numel(a_shape)}, a_shape),
                       cpu_tensor(b, b_shape), want_mul);
  std::vector<float> got = out.download();
  got.resize(numel(a_shape));
  check_close(got, as_floats(want_mul), 0.0, "binary");

  // The transpose of x viewed as [7, n / 7].
  const Shape t_shape{n / 7, 7}, t_strides{1, n / 7};
  ops::gather_strided(x_dev.get(), 0, to_dims(t_strides), out.get(), to_dims(t_shape), nullptr);
  Tensor want_t = cpu_empty(t_shape);
  cpu_backend().gather_strided(cpu_tensor(x, {n}), 0, t_strides, want_t);
  got = out.download();
  got.resize(numel(t_shape));
  check_close(got, as_floats(want_t), 0.0, "gather_strided");

  const int64_t m = 4 * n;  // one thread per Philox block of four
  DeviceBuffer<float> noise(m);
  ops::uniform(42, 1, -1.0, 1.0, noise.get(), m, nullptr);
  Tensor want_noise = cpu_empty({m});
  cpu_backend().uniform(42, 1, -1.0, 1.0, want_noise);
  check_close(noise.download(), as_floats(want_noise), 0.0, "uniform");

  DeviceBuffer<float> p(x), mom(std::vector<float>(n, 0.0f)), vel(std::vector<float>(n, 0.0f));
  ops::adam_step(p.get(), x_dev.get(), mom.get(), vel.get(), n, 0.5f, 0.5f, 0.75f, 1.0f, 0.0f,
                 0.5f, 0.25f, nullptr);
  Tensor cp = cpu_tensor(x, {n}), cm = cpu_empty({n}), cv = cpu_empty({n});
  cpu_backend().adam_step(cp, cpu_tensor(x, {n}), cm, cv, 0.5, 0.5, 0.75, 1.0, 0.0, 1);
  check_close(p.download(), as_floats(cp), 1e-6, "adam_step");
}

// Thread and warp per output: sum_to as columns and as rows.
void segment_units() {
  const int64_t n = beyond_cap(1);
  const std::vector<float> x = random_int_floats(3 * n, -4, 4, 3);
  const DeviceBuffer<float> x_dev(x);
  for (const auto& [x_shape, out_shape] :
       {std::pair<Shape, Shape>{{3, n}, {1, n}}, {{beyond_cap(32), 3}, {beyond_cap(32), 1}}}) {
    CAPTURE(shape_str(x_shape), shape_str(out_shape));
    DeviceBuffer<float> out(numel(out_shape));
    const std::vector<float> xs(x.begin(), x.begin() + numel(x_shape));
    sum_to(x_dev.get(), to_dims(x_shape), to_dims(cpu::broadcast_strides(out_shape, x_shape)),
                out.get(), numel(out_shape));
    Tensor want = cpu_empty(out_shape);
    cpu_backend().sum_to(cpu_tensor(xs, x_shape), want);
    check_close(out.download(), as_floats(want), 0.0, "sum_to");
  }
}

// Warp and block per row: log-softmax.
void row_units() {
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{beyond_cap(32), 40}, {beyond_cap(256), 1030}}) {
    CAPTURE(rows, cols);
    const std::vector<float> x = random_floats(rows * cols, 4, -5.0f, 5.0f);
    const DeviceBuffer<float> x_dev(x);
    DeviceBuffer<float> y(rows * cols);
    ops::log_softmax_forward(x_dev.get(), y.get(), rows, cols, nullptr);
    Tensor want = cpu_empty({rows, cols});
    cpu_backend().log_softmax_forward(cpu_tensor(x, {rows, cols}), want);
    check_close(y.download(), as_floats(want), 1e-6, "log_softmax_forward");
  }
}

// Warp per position: layer-norm; thread per element: max-pool.
void position_and_pool_units() {
  const NormGeometry g{beyond_cap(32), 7, 1};
  const std::vector<float> x = random_floats(g.outer * 7, 5), gamma(7, 1.0f), beta(7, 0.0f);
  const DeviceBuffer<float> x_dev(x), gamma_dev(gamma), beta_dev(beta);
  DeviceBuffer<float> y(g.outer * 7), mean(g.outer), invstd(g.outer);
  ops::layernorm_forward(g, x_dev.get(), gamma_dev.get(), beta_dev.get(), 1e-5f, y.get(),
                         mean.get(), invstd.get(), nullptr);
  Tensor want = cpu_empty({g.outer, 7}), want_mean = cpu_empty({g.outer}), want_inv = cpu_empty({g.outer});
  cpu_backend().layernorm_forward(g, cpu_tensor(x, {g.outer, 7}), cpu_tensor(gamma, {7}),
                                  cpu_tensor(beta, {7}), 1e-5, want, want_mean, want_inv);
  check_close(y.download(), as_floats(want), 1e-5, "layernorm_forward");

  const int64_t planes = beyond_cap(1) / 4 + 1;  // 2x2 outputs per 4x4 plane
  const PoolGeometry pg{1, planes, 4, 4, 2, 2, 0, 2, 2};
  const std::vector<float> px = random_int_floats(planes * 16, -3, 3, 6);
  const DeviceBuffer<float> px_dev(px);
  DeviceBuffer<float> py(planes * 4);
  ops::maxpool2d_forward(pg, px_dev.get(), py.get(), nullptr);
  Tensor want_py = cpu_empty({1, planes, 2, 2});
  cpu_backend().maxpool2d_forward(pg, cpu_tensor(px, {1, planes, 4, 4}), want_py);
  check_close(py.download(), as_floats(want_py), 0.0, "maxpool2d_forward");
}

TEST_CASE("grid-stride loops cover sizes beyond the grid cap", "[kernels][grid]") {
  [[maybe_unused]] const SmallGrid small_grid;
  for_each_schedule([] {
    thread_units();
    segment_units();
    row_units();
    position_and_pool_units();
  });
}

}  // namespace
}  // namespace imx::kernel_test
