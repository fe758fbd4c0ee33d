// The emulation runs correct kernels correctly: index math, shared memory, warp shuffles,
// votes, atomics and a tiled matrix product, each against an independent host reference,
// at odd sizes, under every standard schedule.
#include <catch.hpp>

#include <climits>
#include <cstdint>
#include <vector>

#include "tests/simt/kernels/simt_test_kernels.cuh"
#include "tests/simt/test_support.h"

namespace {

namespace kt = imx::emu::simt_test;
using imx::simt::ScopedSchedule;
using imx::simt::standard_schedules;
using imx::simt_test::DeviceBuffer;

TEST_CASE("every thread of odd 1D/2D/3D grids sees its own coordinates", "[simt][index]") {
  struct Shape {
    dim3 grid, block;
  };
  const std::vector<Shape> shapes = {
      {dim3(1), dim3(1)},           {dim3(7), dim3(33)},         {dim3(3, 2), dim3(5, 3)},
      {dim3(3, 2, 2), dim3(5, 3, 2)}, {dim3(2, 1, 3), dim3(4, 4, 4)}, {dim3(1, 5, 1), dim3(1, 1, 7)},
  };
  for (const auto& schedule : standard_schedules()) {
    ScopedSchedule scope(schedule);
    for (const Shape& s : shapes) {
      CAPTURE(schedule.to_string(), s.grid.x, s.grid.y, s.grid.z, s.block.x, s.block.y, s.block.z);
      const unsigned per_block = s.block.x * s.block.y * s.block.z;
      const unsigned blocks = s.grid.x * s.grid.y * s.grid.z;
      DeviceBuffer<unsigned> out(static_cast<std::size_t>(blocks) * per_block * kt::kIndexFields);
      kt::write_thread_indices(s.grid, s.block, out.get());
      const std::vector<unsigned> got = out.download();
      std::size_t mismatches = 0;
      std::size_t slot = 0;
      for (unsigned bz = 0; bz < s.grid.z; ++bz)
        for (unsigned by = 0; by < s.grid.y; ++by)
          for (unsigned bx = 0; bx < s.grid.x; ++bx)
            for (unsigned tz = 0; tz < s.block.z; ++tz)
              for (unsigned ty = 0; ty < s.block.y; ++ty)
                for (unsigned tx = 0; tx < s.block.x; ++tx, ++slot) {
                  const unsigned want[kt::kIndexFields] = {tx, ty, tz, bx, by, bz, s.block.x, s.block.y,
                                                           s.block.z, s.grid.x, s.grid.y, s.grid.z, 32};
                  for (int f = 0; f < kt::kIndexFields; ++f) {
                    mismatches += got[slot * kt::kIndexFields + f] != want[f];
                  }
                }
      REQUIRE(mismatches == 0);
    }
  }
}

TEST_CASE("shared-memory tree reductions (static and dynamic shared memory)", "[simt][shared]") {
  const int n = 1000;
  const std::vector<float> x = imx::simt_test::random_int_floats(n, -9, 9, 11);
  const DeviceBuffer<float> x_dev(x);
  struct Config {
    int block;
    bool static_shared;
  };
  for (const auto& schedule : standard_schedules()) {
    ScopedSchedule scope(schedule);
    for (const Config c : {Config{96, false}, Config{256, true}, Config{33, false}, Config{1, true}, Config{200, true}}) {
      CAPTURE(schedule.to_string(), c.block, c.static_shared);
      const int blocks = (n + c.block - 1) / c.block;
      DeviceBuffer<float> out(blocks);
      kt::block_sums(x_dev.get(), n, c.block, c.static_shared, out.get());
      std::vector<double> want(blocks, 0.0);
      for (int i = 0; i < n; ++i) want[i / c.block] += x[i];
      REQUIRE(imx::simt_test::max_abs_error(out.download(), want) == 0.0);
    }
  }
}

TEST_CASE("warp shuffles match the CUDA definitions, widths included", "[simt][warp]") {
  const int block = 64;
  const int n = 3 * block - 5;  // the last warp has lanes past the end (value -1)
  const std::vector<float> x = imx::simt_test::random_int_floats(n, 0, 1000, 5);
  const DeviceBuffer<float> x_dev(x);
  const auto value = [&](int warp_base, int lane) { return warp_base + lane < n ? x[warp_base + lane] : -1.0f; };
  std::vector<float> want(static_cast<std::size_t>(n) * kt::kShuffleFields);
  for (int i = 0; i < n; ++i) {
    const int lane = i % 32;
    const int base = i - lane;
    const float own = value(base, lane);
    float* w = &want[static_cast<std::size_t>(i) * kt::kShuffleFields];
    w[0] = value(base, (lane * 7 + 3) % 32);
    w[1] = lane >= 3 ? value(base, lane - 3) : own;
    w[2] = lane + 5 <= 31 ? value(base, lane + 5) : own;
    w[3] = value(base, lane ^ 6);
    w[4] = lane % 8 + 2 < 8 ? value(base, lane + 2) : own;
    w[5] = lane % 4 >= 1 ? value(base, lane - 1) : own;
    w[6] = value(base, lane ^ 9);
    w[7] = value(base, lane / 16 * 16 + (lane + 1) % 16);
    w[8] = value(base, 31 - lane) * 0.5f;
  }
  for (const auto& schedule : standard_schedules()) {
    ScopedSchedule scope(schedule);
    CAPTURE(schedule.to_string());
    DeviceBuffer<float> out(want.size());
    kt::warp_shuffles(x_dev.get(), n, block, out.get());
    REQUIRE(imx::simt_test::max_abs_error(out.download(), want) == 0.0);
  }
}

TEST_CASE("xor-butterfly warp sums, including partial last warps with partial masks", "[simt][warp]") {
  const int n = 500;
  const std::vector<int> x = imx::simt_test::random_ints(n, -100, 100, 3);
  const DeviceBuffer<int> x_dev(x);
  for (const auto& schedule : standard_schedules()) {
    ScopedSchedule scope(schedule);
    for (const int block : {80, 45, 32, 7}) {
      CAPTURE(schedule.to_string(), block);
      const int blocks = (n + block - 1) / block;
      const int warps_per_block = (block + 31) / 32;
      DeviceBuffer<int> out(static_cast<std::size_t>(blocks) * warps_per_block);
      kt::warp_sums(x_dev.get(), n, block, out.get());
      std::vector<int> want(out.size(), 0);
      for (int i = 0; i < n; ++i) want[(i / block) * warps_per_block + (i % block) / 32] += x[i];
      REQUIRE(out.download() == want);
    }
  }
}

TEST_CASE("ballot, any, all, block-wide counts and warp reductions", "[simt][warp][vote]") {
  const int block = 64;
  const int n = 3 * block - 9;
  std::vector<int> x = imx::simt_test::random_ints(n, -2, 9, 17);
  for (int i = 0; i < block; ++i) x[i] = i % 5;  // block 0: all non-negative, so the "all" votes are true
  const DeviceBuffer<int> x_dev(x);
  const auto v = [&](int i) { return i < n ? x[i] : 0; };
  std::vector<int> want(static_cast<std::size_t>(n) * kt::kVoteFields);
  for (int i = 0; i < n; ++i) {
    const int warp_base = i - i % 32;
    const int block_base = i - i % block;
    unsigned ballot = 0;
    int all_nonneg = 1, sum = 0, maximum = INT_MIN;
    for (int lane = 0; lane < 32; ++lane) {
      const int value = v(warp_base + lane);
      if (value % 3 == 0) ballot |= 1u << lane;
      all_nonneg &= value >= 0;
      sum += value;
      maximum = std::max(maximum, value);
    }
    int count = 0, block_nonneg = 1, any_seven = 0;
    for (int t = 0; t < block; ++t) {
      count += v(block_base + t) % 3 == 0;
      block_nonneg &= v(block_base + t) >= 0;
      any_seven |= v(block_base + t) == 7;
    }
    int* w = &want[static_cast<std::size_t>(i) * kt::kVoteFields];
    w[0] = static_cast<int>(ballot);
    w[1] = ballot != 0;
    w[2] = all_nonneg;
    w[3] = count;
    w[4] = block_nonneg;
    w[5] = any_seven;
    w[6] = sum;
    w[7] = maximum;
  }
  for (const auto& schedule : standard_schedules()) {
    ScopedSchedule scope(schedule);
    CAPTURE(schedule.to_string());
    DeviceBuffer<int> out(want.size());
    kt::votes(x_dev.get(), n, block, out.get());
    REQUIRE(out.download() == want);
  }
}

TEST_CASE("atomics from many threads and from several worker threads", "[simt][atomic]") {
  const int n = 1000, bins = 7;
  const std::vector<int> x = imx::simt_test::random_ints(n, -50, 50, 23);
  const DeviceBuffer<int> x_dev(x);
  std::vector<unsigned> want_hist(bins, 0);
  long long want_sum = 0;
  int want_max = INT_MIN, want_min = INT_MAX;
  for (const int v : x) {
    ++want_hist[((v % bins) + bins) % bins];
    want_sum += v;
    want_max = std::max(want_max, v);
    want_min = std::min(want_min, v);
  }
  for (const unsigned workers : {1u, 2u}) {
    imx::simt::set_workers(workers);
    CAPTURE(workers);
    DeviceBuffer<unsigned> hist(std::vector<unsigned>(bins, 0));
    DeviceBuffer<float> sums(std::vector<float>{0.0f});
    DeviceBuffer<double> sums_d(std::vector<double>{0.0});
    DeviceBuffer<int> extrema(std::vector<int>{INT_MIN, INT_MAX});
    DeviceBuffer<unsigned long long> cas_sum(std::vector<unsigned long long>{0});
    kt::atomics(x_dev.get(), n, bins, hist.get(), sums.get(), sums_d.get(), extrema.get(), cas_sum.get());
    CHECK(hist.download() == want_hist);
    CHECK(sums.download()[0] == static_cast<float>(want_sum));
    CHECK(sums_d.download()[0] == static_cast<double>(want_sum));
    CHECK(extrema.download() == std::vector<int>{want_max, want_min});
    CHECK(cas_sum.download()[0] == static_cast<unsigned long long>(want_sum));
  }
  imx::simt::set_workers(1);
}

TEST_CASE("tiled matrix product matches a float64 loop at odd sizes", "[simt][matmul]") {
  struct Size {
    int m, n, k;
  };
  for (const auto& schedule : standard_schedules()) {
    ScopedSchedule scope(schedule);
    for (const Size s : {Size{37, 53, 29}, Size{16, 16, 16}, Size{1, 1, 1}, Size{33, 17, 65}}) {
      CAPTURE(schedule.to_string(), s.m, s.n, s.k);
      const auto a = imx::simt_test::random_int_floats(static_cast<std::size_t>(s.m) * s.k, -3, 3, 1);
      const auto b = imx::simt_test::random_int_floats(static_cast<std::size_t>(s.k) * s.n, -3, 3, 2);
      const DeviceBuffer<float> a_dev(a), b_dev(b);
      DeviceBuffer<float> c_dev(static_cast<std::size_t>(s.m) * s.n);
      kt::tiled_matmul(a_dev.get(), b_dev.get(), c_dev.get(), s.m, s.n, s.k, kt::MatmulVariant::Correct);
      // Integer inputs: every partial sum is exact in float, so any error is a real bug.
      REQUIRE(imx::simt_test::max_abs_error(c_dev.download(), imx::simt_test::reference_matmul(a, b, s.m, s.n, s.k)) ==
              0.0);
    }
  }
}

TEST_CASE("blocks spread over two worker threads give the same product", "[simt][matmul][workers]") {
  const int m = 45, n = 38, k = 40;
  const auto a = imx::simt_test::random_int_floats(static_cast<std::size_t>(m) * k, -3, 3, 7);
  const auto b = imx::simt_test::random_int_floats(static_cast<std::size_t>(k) * n, -3, 3, 8);
  const DeviceBuffer<float> a_dev(a), b_dev(b);
  DeviceBuffer<float> c_dev(static_cast<std::size_t>(m) * n);
  imx::simt::set_workers(2);
  kt::tiled_matmul(a_dev.get(), b_dev.get(), c_dev.get(), m, n, k, kt::MatmulVariant::Correct);
  imx::simt::set_workers(1);
  REQUIRE(imx::simt_test::max_abs_error(c_dev.download(), imx::simt_test::reference_matmul(a, b, m, n, k)) == 0.0);
}

}  // namespace
