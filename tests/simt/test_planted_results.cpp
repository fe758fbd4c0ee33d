// The harness can fail: planted missing barriers produce wrong results that the reference
// comparison catches. Not run in the sanitizer builds (which stop at the race itself; see
// planted_bug_driver.cpp).
#include <catch.hpp>

#include <algorithm>
#include <cmath>
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

namespace {

bool all_nan(const std::vector<float>& v, std::size_t from = 0) {
  return std::all_of(v.begin() + static_cast<std::ptrdiff_t>(from), v.end(), [](float f) { return std::isnan(f); });
}

}  // namespace

TEST_CASE("static shared memory starts poisoned: a total nobody zeroes is NaN, not right by luck",
          "[simt][planted]") {
  // One block: with shared memory starting at zero (as a plain static would), the planted
  // kernel gives the right total.
  const int n = 50, block = 64;
  const std::vector<float> x = imx::simt_test::random_int_floats(n, -9, 9, 51);
  const DeviceBuffer<float> x_dev(x);
  float want = 0;
  for (const float v : x) want += v;
  for (const auto& schedule : standard_schedules()) {
    ScopedSchedule scope(schedule);
    CAPTURE(schedule.to_string());
    DeviceBuffer<float> out(1);
    kt::shared_block_totals(x_dev.get(), n, block, true, out.get());
    CHECK(out.download()[0] == want);
    kt::shared_block_totals(x_dev.get(), n, block, false, out.get());
    CHECK(std::isnan(out.download()[0]));
  }
}

TEST_CASE("static shared memory is poisoned again for every block: what block 0 left is not inherited",
          "[simt][planted]") {
  const int n = 200, block = 32;
  const std::vector<float> lut = imx::simt_test::random_int_floats(kt::kSharedTable, 1, 9, 52);
  const std::vector<float> x = imx::simt_test::random_int_floats(n, -9, 9, 53);
  const DeviceBuffer<float> lut_dev(lut), x_dev(x);
  std::vector<float> want(n);
  for (int i = 0; i < n; ++i) want[i] = x[i] * lut[i % kt::kSharedTable];
  for (const auto& schedule : standard_schedules()) {
    ScopedSchedule scope(schedule);
    CAPTURE(schedule.to_string());
    DeviceBuffer<float> out(n);
    kt::shared_table_scale(lut_dev.get(), x_dev.get(), n, block, true, out.get());
    CHECK(max_abs_error(out.download(), want) == 0.0);
    // Only block 0 staged the table: its outputs are right, every later block reads poison.
    kt::shared_table_scale(lut_dev.get(), x_dev.get(), n, block, false, out.get());
    const std::vector<float> got = out.download();
    CHECK(std::equal(got.begin(), got.begin() + block, want.begin()));
    CHECK(all_nan(got, block));
  }
}
