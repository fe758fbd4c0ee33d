// The harness can fail: planted missing barriers produce wrong results that the reference
// comparison catches. Not run in the sanitizer builds (which stop at the race itself; see
// planted_bug_driver.cpp).
#include <catch.hpp>

#include <vector>

#include "tests/simt/kernels/simt_test_kernels.cuh"
#include "tests/simt/test_support.h"

namespace {

namespace kt = imx::emu::simt_test;
using imx::simt::Schedule;
using imx::simt::ScopedSchedule;
using imx::simt::standard_schedules;
using imx::simt_test::DeviceBuffer;
using imx::simt_test::max_abs_error;

double matmul_error(kt::MatmulVariant variant, int m, int n, int k) {
  const auto a = imx::simt_test::random_int_floats(static_cast<std::size_t>(m) * k, -3, 3, 31);
  const auto b = imx::simt_test::random_int_floats(static_cast<std::size_t>(k) * n, -3, 3, 32);
  const DeviceBuffer<float> a_dev(a), b_dev(b);
  DeviceBuffer<float> c_dev(static_cast<std::size_t>(m) * n);
  kt::tiled_matmul(a_dev.get(), b_dev.get(), c_dev.get(), m, n, k, variant);
  return max_abs_error(c_dev.download(), imx::simt_test::reference_matmul(a, b, m, n, k));
}

}  // namespace

TEST_CASE("a tiled product missing a __syncthreads fails the reference check in every schedule",
          "[simt][planted]") {
  for (const auto variant : {kt::MatmulVariant::MissingSyncAfterLoad, kt::MatmulVariant::MissingSyncAfterCompute}) {
    for (const auto& schedule : standard_schedules()) {
      ScopedSchedule scope(schedule);
      CAPTURE(static_cast<int>(variant), schedule.to_string());
      // The correct kernel passes exactly under the same schedule...
      REQUIRE(matmul_error(kt::MatmulVariant::Correct, 37, 29, 45) == 0.0);
      // ...and the planted one is off by whole units (integer inputs).
      CHECK(matmul_error(variant, 37, 29, 45) >= 1.0);
    }
  }
}

TEST_CASE("a missing barrier after a thread-0 broadcast passes in order and fails in other orders",
          "[simt][planted]") {
  const int n = 300, block = 64;
  std::vector<float> x = imx::simt_test::random_int_floats(n, 1, 9, 41);
  const DeviceBuffer<float> x_dev(x);
  std::vector<float> want(n);
  for (int i = 0; i < n; ++i) want[i] = x[i] * x[i / block * block];
  const auto error_under = [&](const Schedule& schedule, bool missing_barrier) {
    ScopedSchedule scope(schedule);
    DeviceBuffer<float> out(n);
    kt::broadcast_scale(x_dev.get(), n, block, missing_barrier, out.get());
    return max_abs_error(out.download(), want);
  };
  for (const auto& schedule : standard_schedules()) {
    CAPTURE(schedule.to_string());
    CHECK(error_under(schedule, false) == 0.0);
    if (schedule.order == Schedule::Order::InOrder) {
      // Thread 0 runs first, so the bug is invisible in order: why other orders exist.
      CHECK(error_under(schedule, true) == 0.0);
    } else {
      CHECK(error_under(schedule, true) >= 1.0);
    }
  }
}
