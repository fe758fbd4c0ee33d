// fill, affine, the unary ops and their gradients, binary ops with broadcasting, and the
// strided gather / scatter-add, each against the CPU backend at sizes that are not multiples
// of the block (and 0), under every standard schedule.
#include "tests/kernels/kernel_test_util.h"

#include "engine/cpu/strided.h"

namespace imx::kernel_test {
namespace {

const std::vector<int64_t>& sizes() {
  static const std::vector<int64_t> full = {0, 1, 31, 33, 1000, 4099};
  static const std::vector<int64_t> small = {0, 1, 257};
  return sized(full, small);
}

TEST_CASE("fill and affine write every element, and nothing past the end", "[kernels][elementwise]") {
  for_each_schedule([] {
    for (int64_t n : sizes()) {
      CAPTURE(n);
      DeviceBuffer<float> out(n);
      ops::fill(out.get(), n, 2.5f, nullptr);
      check_close(out.download(), std::vector<float>(n, 2.5f), 0.0, "fill");

      const std::vector<float> x = random_floats(n, 7 + n);
      const DeviceBuffer<float> x_dev(x);
      ops::affine(x_dev.get(), out.get(), n, -1.5f, 0.25f, nullptr);
      Tensor want = cpu_empty({n});
      cpu_backend().affine(cpu_tensor(x, {n}), -1.5, 0.25, want);
      check_close(out.download(), as_floats(want), 1e-6, "affine");
    }
  });
}

TEST_CASE("unary ops and their gradients match the CPU backend", "[kernels][elementwise]") {
  const std::vector<Unary> all = {Unary::Relu, Unary::Sigmoid, Unary::Softplus, Unary::Exp,
                                  Unary::Log,  Unary::Neg,     Unary::Square,   Unary::Sqrt};
  const std::vector<int64_t> one_block = {33};
  for_each_schedule([&] {
    for (int64_t n : sized(sizes(), one_block)) {
      for (Unary op : all) {
        CAPTURE(n, static_cast<int>(op));
        // Log and Sqrt need positive inputs; the others see both signs and |x| up to 4.
        const bool positive = op == Unary::Log || op == Unary::Sqrt;
        const std::vector<float> x = random_floats(n, 100 + n, positive ? 0.05f : -4.0f, 4.0f);
        const std::vector<float> gy = random_floats(n, 200 + n);
        const DeviceBuffer<float> x_dev(x), gy_dev(gy);
        DeviceBuffer<float> y_dev(n), gx_dev(n);
        ops::unary_forward(op, x_dev.get(), y_dev.get(), n, nullptr);
        const std::vector<float> y = y_dev.download();

        Tensor want_y = cpu_empty({n}), want_gx = cpu_empty({n});
        cpu_backend().unary(op, cpu_tensor(x, {n}), want_y);
        check_close(y, as_floats(want_y), 1e-6, "unary_forward");

        // The gradient from the CPU's y, so that only the backward formula is compared.
        const std::vector<float> y_ref = as_floats(want_y);
        const DeviceBuffer<float> y_ref_dev(y_ref);
        ops::unary_backward(op, x_dev.get(), y_ref_dev.get(), gy_dev.get(), gx_dev.get(), n, nullptr);
        cpu_backend().unary_backward(op, cpu_tensor(x, {n}), cpu_tensor(y_ref, {n}),
                                     cpu_tensor(gy, {n}), want_gx);
        check_close(gx_dev.download(), as_floats(want_gx), 1e-6, "unary_backward");
      }
    }
  });
}

// Shapes of a and b broadcast against each other (NumPy rules, right-aligned).
struct BroadcastCase {
  Shape a, b;
};

Shape broadcast_shape(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

TEST_CASE("binary ops broadcast like the CPU backend", "[kernels][broadcast]") {
  const std::vector<BroadcastCase> full = {
      {{4099}, {4099}},             // contiguous fast path
      {{3, 1, 5}, {1, 7, 1}},       // both operands broadcast
      {{2, 3, 4, 5}, {5}},          // trailing vector (a bias)
      {{33, 31}, {33, 1}},          // a column
      {{1}, {17, 3}},               // a scalar
      {{6, 1, 1, 9}, {6, 5, 7, 1}}, // rank 4, merges
      {{0, 3}, {1, 3}},             // empty
      {{}, {}},                     // rank 0
  };
  const std::vector<BroadcastCase> small = {{{33}, {33}}, {{3, 1, 5}, {1, 7, 1}}};
  const Binary all[] = {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div};
  for_each_schedule([&] {
    for (const BroadcastCase& c : sized(full, small)) {
      const Shape out_shape = broadcast_shape(c.a, c.b);
      CAPTURE(shape_str(c.a), shape_str(c.b));
      // Integers away from zero: every result of + - * is exact; / rounds the same way.
      const std::vector<float> a = random_int_floats(numel(c.a), 1, 9, 3);
      const std::vector<float> b = random_int_floats(numel(c.b), -9, -1, 4);
      const DeviceBuffer<float> a_dev(a), b_dev(b);
      DeviceBuffer<float> out_dev(numel(out_shape));
      for (Binary op : all) {
        CAPTURE(static_cast<int>(op));
        ops::binary(op, a_dev.get(), to_dims(cpu::broadcast_strides(c.a, out_shape)), b_dev.get(),
                    to_dims(cpu::broadcast_strides(c.b, out_shape)), out_dev.get(),
                    to_dims(out_shape), nullptr);
        Tensor want = cpu_empty(out_shape);
        cpu_backend().binary(op, cpu_tensor(a, c.a), cpu_tensor(b, c.b), want);
        check_close(out_dev.download(), as_floats(want), 0.0, "binary");
      }
    }
  });
}

// A strided view of a source buffer: offset, strides and the view's (dst's) shape.
struct ViewCase {
  std::string name;
  int64_t src_numel;
  int64_t offset;
  Shape strides, shape;
};

TEST_CASE("gather_strided and scatter_add_strided move the same elements as the CPU backend",
          "[kernels][strided]") {
  const std::vector<ViewCase> full = {
      {"transpose of [33, 31]", 33 * 31, 0, {1, 31}, {31, 33}},
      {"permute [3,5,7] -> [7,3,5]", 105, 0, {1, 35, 7}, {7, 3, 5}},
      {"slice rows 2..9 of [10, 13]", 130, 26, {13, 1}, {7, 13}},
      {"slice cols 3..8 of [10, 13]", 130, 3, {13, 1}, {10, 5}},
      {"every other element of 4099", 4099, 1, {2}, {2049}},
      {"one element", 5, 4, {1}, {1}},
      {"empty", 5, 0, {1}, {0}},
      {"rank 0", 3, 2, {}, {}},
  };
  const std::vector<ViewCase> small = {full[1], full[2], full[5]};
  for_each_schedule([&] {
    for (const ViewCase& c : sized(full, small)) {
      CAPTURE(c.name);
      const int64_t n = numel(c.shape);
      const std::vector<float> src = random_int_floats(c.src_numel, -50, 50, 5);
      const std::vector<float> view = random_int_floats(n, -50, 50, 6);
      const DeviceBuffer<float> src_dev(src), view_dev(view);

      DeviceBuffer<float> gathered(n);
      ops::gather_strided(src_dev.get(), c.offset, to_dims(c.strides), gathered.get(),
                          to_dims(c.shape), nullptr);
      Tensor want_gather = cpu_empty(c.shape);
      cpu_backend().gather_strided(cpu_tensor(src, {c.src_numel}), c.offset, c.strides, want_gather);
      check_close(gathered.download(), as_floats(want_gather), 0.0, "gather_strided");

      // The scatter adds into a pre-filled destination (the source values are the base).
      DeviceBuffer<float> dst(src);
      ops::scatter_add_strided(view_dev.get(), to_dims(c.shape), dst.get(), c.offset,
                               to_dims(c.strides), nullptr);
      Tensor want_scatter = cpu_tensor(src, {c.src_numel});
      cpu_backend().scatter_add_strided(cpu_tensor(view, c.shape), c.offset, c.strides, want_scatter);
      check_close(dst.download(), as_floats(want_scatter), 0.0, "scatter_add_strided");
    }
  });
}

}  // namespace
}  // namespace imx::kernel_test
