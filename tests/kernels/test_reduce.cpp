// sum_to against the CPU backend: the two regimes (few outputs with long sums, which split
// into two passes; many outputs with short sums, warp- or thread-per-output), odd sizes, empty
// reductions. Integer inputs make every float sum exact, so those runs compare bitwise; random
// floats compare within the float32 summation bound.
#include "tests/kernels/kernel_test_util.h"

#include "engine/cpu/strided.h"

namespace imx::kernel_test {
namespace {

struct SumCase {
  Shape x, out;
  bool large;  // run in order only, and with integer inputs only, to keep the binary fast
};

// Runs one case with x's values and compares against the CPU backend with `tol` relative to
// the largest per-output sum of |x| (the scale of float summation error).
void check_sum_to(const SumCase& c, const std::vector<float>& x, double tol) {
  CAPTURE(shape_str(c.x), shape_str(c.out));
  Tensor want = cpu_empty(c.out);
  cpu_backend().sum_to(cpu_tensor(x, c.x), want);
  std::vector<float> abs_x(x.size());
  std::transform(x.begin(), x.end(), abs_x.begin(), [](float v) { return std::abs(v); });
  Tensor abs_sums = cpu_empty(c.out);
  cpu_backend().sum_to(cpu_tensor(abs_x, c.x), abs_sums);
  double scale = 0.0;
  for (double s : abs_sums.to_vector()) scale = std::max(scale, s);

  const DeviceBuffer<float> x_dev(x);
  DeviceBuffer<float> out_dev(numel(c.out));
  sum_to(x_dev.get(), to_dims(c.x), to_dims(cpu::broadcast_strides(c.out, c.x)),
              out_dev.get(), numel(c.out));
  check_close(out_dev.download(), as_floats(want), tol, "sum_to", tol == 0.0 ? 0.0 : scale);
}

TEST_CASE("sum_to matches the CPU backend in both regimes", "[kernels][reduce]") {
  const std::vector<SumCase> full = {
      {{64, 128, 8, 8}, {1, 128, 1, 1}, true},  // bias gradient: rows, split in 16
      {{64, 128, 8, 8}, {1, 1, 1, 1}, true},    // everything: rows, split in 1024
      {{64, 128, 8, 8}, {1, 128, 8, 8}, true},  // batch sum: columns, split in 4
      {{33, 65, 64}, {33, 65, 1}, true},        // many short rows, no split
      {{4, 64, 16, 16}, {1, 1, 1, 1}, false},   // everything, smaller: split in 256
      {{3, 7, 5}, {3, 1, 5}, false},            // middle axis
      {{1000, 3}, {1, 3}, false},               // few outputs, strided rows
      {{4099}, {1}, false},                     // odd length, split in 16
      {{33, 1025}, {33, 1}, false},             // rows longer than a block
      {{40, 1100}, {1, 1100}, false},           // columns, split in 2
      {{2, 3, 300}, {1, 3, 1}, false},          // rows, split in 2
      {{6, 1, 4}, {1, 1, 1}, false},            // size-1 axes
      {{2, 3}, {2, 3}, false},                  // nothing reduced: a copy
      {{5, 0, 3}, {5, 1, 3}, false},            // empty sums are 0
      {{0, 3}, {0, 3}, false},                  // no outputs
      {{7}, {7}, false},
  };
  // Each regime once: plain rows, split rows, split columns (integers only), empty sums,
  // strided rows, size-1 axes.
  const std::vector<SumCase> small = {
      {{3, 7, 5}, {3, 1, 5}, false},
      {{2, 3, 300}, {1, 3, 1}, false},
      {{36, 1024}, {1, 1024}, true},
      {{5, 0, 3}, {5, 1, 3}, false},
      {{1000, 3}, {1, 3}, false},
      {{6, 1, 4}, {1, 1, 1}, false},
  };
  for (const SumCase& c : sized(full, small)) {
    // Integers in [-4, 4]: sums below 2^24 are exact in float32, so any order gives the same bits.
    const auto exact = [&] { check_sum_to(c, random_int_floats(numel(c.x), -4, 4, 21), 0.0); };
    // Random floats: float32 sums whose longest chain of additions is under 170 terms here
    // (values per lane or thread + warp tree + second pass), so the error stays below
    // 170 * 2^-24 ~ 1e-5 times the largest sum of magnitudes.
    const auto rounded = [&] { check_sum_to(c, random_floats(numel(c.x), 22), 1e-5); };
    if (c.large) {
      in_order(exact);  // in the sanitizer builds too
    } else {
      for_each_schedule(exact);
      for_each_schedule(rounded);
    }
  }
}

TEST_CASE("sum_to is deterministic: the same shape gives the same bits", "[kernels][reduce]") {
  // No atomics: the split depends on the shape only, so every schedule (and, on a device,
  // every run) sums in the same order.
  const Shape shape = sized(Shape{64, 128, 8, 8}, Shape{2, 3, 300});
  const Shape out = sized(Shape{1, 1, 1, 1}, Shape{1, 3, 1});
  const std::vector<float> x = random_floats(numel(shape), 23);
  std::vector<std::vector<float>> results;
  const auto run = [&] {
    const DeviceBuffer<float> x_dev(x);
    DeviceBuffer<float> out_dev(numel(out));
    sum_to(x_dev.get(), to_dims(shape), to_dims(cpu::broadcast_strides(out, shape)),
                out_dev.get(), numel(out));
    results.push_back(out_dev.download());
  };
  for_each_schedule(run);
  for_each_schedule(run);
  for (size_t i = 1; i < results.size(); ++i) check_close(results[i], results[0], 0.0, "sum_to rerun");
}

#if defined(IMX_SIMT_EMU)
TEST_CASE("split sums with blocks spread over two worker threads", "[kernels][reduce][workers]") {
  // The only data shared between blocks is the split reductions' workspace: each block of
  // the first pass writes its own partials, the second launch reads them. With two workers the
  // blocks of a launch run on two OS threads, so the ThreadSanitizer variant would report any
  // overlap between them.
  const unsigned saved = imx::simt::workers();
  imx::simt::set_workers(2);
  for_each_schedule([] {
    check_sum_to({{2, 3, 300}, {1, 3, 1}, false}, random_int_floats(1800, -4, 4, 24), 0.0);
    check_sum_to({{36, 1024}, {1, 1024}, false}, random_int_floats(36 * 1024, -4, 4, 25), 0.0);
  });
  imx::simt::set_workers(saved);
}
#endif

TEST_CASE("sum_to rejects outputs that do not match the kept axes", "[kernels][reduce]") {
  const Dims x = to_dims({4, 3}), out_strides = to_dims({0, 1});
  REQUIRE_THROWS_WITH(ops::sum_to(nullptr, x, out_strides, nullptr, 4, nullptr, 0, nullptr),
                      Catch::Contains("out_numel is 4 but the kept axes hold 3"));
}

TEST_CASE("split sums take their partials from the caller's workspace, and check its size", "[kernels][reduce]") {
  // [64,128,8,8] -> one channel vector: 128 long sums, split into chunks.
  const Dims x = to_dims({64, 128, 8, 8}), out_strides = to_dims({0, 1, 0, 0});
  const size_t bytes = ops::sum_to_workspace_bytes(x, out_strides, 128);
  CHECK(bytes > 0);
  CHECK(bytes % (128 * sizeof(float)) == 0);  // 128 outputs x splits partial sums
  // Many outputs: no split, no workspace.
  CHECK(ops::sum_to_workspace_bytes(to_dims({3, 4099}), to_dims({0, 1}), 4099) == 0);
  REQUIRE_THROWS_WITH(ops::sum_to(nullptr, x, out_strides, nullptr, 128, nullptr, 0, nullptr),
                      Catch::Contains("sum_to: the workspace needs " + std::to_string(bytes) + " bytes"));
  const NormGeometry g{64, 128, 64};
  CHECK(ops::layernorm_backward_workspace_bytes(g) > 0);
  REQUIRE_THROWS_WITH(ops::layernorm_backward(g, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                              nullptr, nullptr, 16, nullptr),
                      Catch::Contains("layernorm_backward: the workspace needs"));
}

}  // namespace
}  // namespace imx::kernel_test
