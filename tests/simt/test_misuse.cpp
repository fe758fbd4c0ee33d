// Barrier and warp-collective misuse is reported as a SimtError naming the kernel and the
// source line of the offending call, under every standard schedule, and never hangs.
#include <catch.hpp>

#include <string>
#include <vector>

#include "tests/simt/kernels/simt_test_kernels.cuh"
#include "tests/simt/test_support.h"

namespace {

namespace kt = imx::emu::simt_test;
using Catch::Matchers::Contains;
using imx::simt::ScopedSchedule;
using imx::simt::SimtError;
using imx::simt::standard_schedules;
using kt::Misuse;

// The SimtError message of one misuse launch, or a marker when nothing was reported.
std::string report_of(Misuse kind, int block, int param = 0) {
  try {
    kt::run_misuse(kind, block, param);
  } catch (const SimtError& error) {
    return error.what();
  }
  return "(no error reported)";
}

std::string at_line(int line) { return "misuse.cu:" + std::to_string(line); }

// Checks `report` under every standard schedule.
template <class Check>
void for_each_schedule(Misuse kind, int block, int param, Check check) {
  for (const auto& schedule : standard_schedules()) {
    ScopedSchedule scope(schedule);
    const std::string report = report_of(kind, block, param);
    CAPTURE(schedule.to_string(), report);
    CHECK_THAT(report, Contains("SIMT emulation: kernel '"));
    CHECK_THAT(report, Contains(at_line(kt::misuse_line(kind))));
    check(report);
  }
}

}  // namespace

TEST_CASE("a barrier reached by only part of a block is reported with file:line", "[simt][misuse]") {
  for_each_schedule(Misuse::PartialBarrier, 64, 16, [](const std::string& report) {
    CHECK_THAT(report, Contains("partial_barrier_kernel"));
    CHECK_THAT(report, Contains("__syncthreads() at"));
    CHECK_THAT(report, Contains("exited"));
  });
}

TEST_CASE("a thread exiting while others wait at __syncthreads is reported", "[simt][misuse]") {
  for_each_schedule(Misuse::ExitBeforeBarrier, 64, 5, [](const std::string& report) {
    CHECK_THAT(report, Contains("thread (5,0,0)"));
    CHECK_THAT(report, Contains("exited"));
    CHECK_THAT(report, Contains("no return before a block barrier"));
  });
}

TEST_CASE("threads at two different __syncthreads are reported with both lines", "[simt][misuse]") {
  for_each_schedule(Misuse::DivergentBarriers, 64, 0, [](const std::string& report) {
    CHECK_THAT(report, Contains("different barriers"));
    CHECK_THAT(report, Contains(at_line(kt::misuse_line(Misuse::DivergentBarriers) + 2)));
  });
}

TEST_CASE("a shuffle whose mask names an exited lane is reported", "[simt][misuse][warp]") {
  for_each_schedule(Misuse::ShuffleWithExitedLane, 32, 3, [](const std::string& report) {
    CHECK_THAT(report, Contains("__shfl_sync() at"));
    CHECK_THAT(report, Contains("lane 3"));
    CHECK_THAT(report, Contains("exited"));
  });
}

TEST_CASE("a shuffle mask that leaves out the calling lane is reported", "[simt][misuse][warp]") {
  for_each_schedule(Misuse::ShuffleMaskWithoutSelf, 32, 0, [](const std::string& report) {
    CHECK_THAT(report, Contains("mask 0x00000001"));
    CHECK_THAT(report, Contains("does not include its own lane"));
  });
}

TEST_CASE("lanes passing different masks to one shuffle are reported", "[simt][misuse][warp]") {
  for_each_schedule(Misuse::ShuffleMixedMasks, 64, 0, [](const std::string& report) {
    CHECK_THAT(report, Contains("__shfl_down_sync() at"));
    CHECK_THAT(report, Contains("same mask"));
  });
}

TEST_CASE("a full mask in a partial last warp is reported", "[simt][misuse][warp]") {
  for_each_schedule(Misuse::ShuffleFullMaskPartialWarp, 40, 0, [](const std::string& report) {
    CHECK_THAT(report, Contains("do not exist"));
    CHECK_THAT(report, Contains("warp 1 has only 8 lane(s)"));
  });
}

TEST_CASE("a shuffle waiting for a lane that waits at __syncthreads is reported", "[simt][misuse][warp]") {
  const int block_barrier_line = kt::misuse_line(Misuse::ShuffleAgainstBlockBarrier) - 2;
  for_each_schedule(Misuse::ShuffleAgainstBlockBarrier, 32, 0, [&](const std::string& report) {
    CHECK_THAT(report, Contains("lane 1"));
    CHECK_THAT(report, Contains("waits at __syncthreads() at"));
    CHECK_THAT(report, Contains(at_line(block_barrier_line)));
  });
}

TEST_CASE("lanes of a warp at two different __syncwarp are reported", "[simt][misuse][warp]") {
  for_each_schedule(Misuse::SyncwarpAtTwoSites, 32, 0, [](const std::string& report) {
    CHECK_THAT(report, Contains("__syncwarp() at"));
    CHECK_THAT(report, Contains("same collective"));
  });
}

TEST_CASE("two calls of one helper holding a barrier are two barriers, not one", "[simt][misuse]") {
  // Threads < 32 meet the others at the helper's single __syncthreads, but from another call:
  // counted per source line this would pass (and the device's behaviour is undefined).
  for_each_schedule(Misuse::HelperBarrierShiftedCalls, 64, 0, [](const std::string& report) {
    CHECK_THAT(report, Contains("helper_barrier_shifted_calls_kernel"));
    CHECK_THAT(report, Contains("different calls of the same barrier"));
    CHECK_THAT(report, Contains("__syncthreads() at"));
  });
}

TEST_CASE("after a reported misuse the next launch runs normally", "[simt][misuse]") {
  REQUIRE_THROWS_AS(kt::run_misuse(Misuse::ExitBeforeBarrier, 64, 5), SimtError);
  REQUIRE_THROWS_AS(kt::run_misuse(Misuse::ShuffleWithExitedLane, 64, 7), SimtError);
  const int n = 100;
  const std::vector<float> x = imx::simt_test::random_int_floats(n, -9, 9, 4);
  const imx::simt_test::DeviceBuffer<float> x_dev(x);
  imx::simt_test::DeviceBuffer<float> out(1);
  kt::block_sums(x_dev.get(), n, 128, true, out.get());
  double want = 0;
  for (const float v : x) want += v;
  REQUIRE(out.download()[0] == static_cast<float>(want));
}
