// The emulation's own machinery: schedules, launch validation, emulated memory, errors
// raised from kernels and from misuse outside kernels. The kernels here are emulation-only
// test fixtures, defined in this file.
#include <catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/simt/simt.h"
#include "tests/simt/test_support.h"

namespace imx::emu::runtime_test {

// Each thread appends its id to `order` before and after one barrier.
IMX_KERNEL void record_order(unsigned* counter, unsigned* order) {
  order[atomicAdd(counter, 1u)] = threadIdx.x;
  __syncthreads();
  order[atomicAdd(counter, 1u)] = 1000 + threadIdx.x;
}

IMX_KERNEL void empty_kernel() {}

IMX_KERNEL void dynamic_shared_probe(float* first_values, int count) {
  IMX_DYNAMIC_SHARED(float, s);
  // What the block finds in dynamic shared memory before writing it: never zeroes.
  if (threadIdx.x == 0) first_values[blockIdx.x] = s[count - 1];
  __syncthreads();
  s[threadIdx.x] = static_cast<float>(threadIdx.x);
}

IMX_KERNEL void throwing_kernel(int bad_thread) {
  if (static_cast<int>(threadIdx.x) == bad_thread) throw std::runtime_error("kernel-side failure");
  __syncthreads();
}

IMX_KERNEL void nested_launch_kernel() { IMX_LAUNCH(empty_kernel, 1, 1, 0, 0)(); }

// Lanes 0, 1, 2 wait at three __syncwarp calls whose masks form a cycle that no eager check
// can call an error: only the "nothing can run" state shows the deadlock.
IMX_KERNEL void cyclic_syncwarp_kernel() {
  switch (threadIdx.x) {
    case 0: __syncwarp(0x3u); break;
    case 1: __syncwarp(0x6u); break;
    default: __syncwarp(0x5u); break;
  }
}

IMX_KERNEL void deep_stack_kernel(float* out) {
  volatile float scratch[4096];  // 16 KiB of locals on the fiber stack
  for (int i = 0; i < 4096; ++i) scratch[i] = static_cast<float>(i + threadIdx.x);
  float sum = 0;
  for (int i = 0; i < 4096; ++i) sum += scratch[i];
  out[threadIdx.x] = sum;
}

// 40 threads: bit operations, wrap-around counters and exchanges whose results have a
// known closed form whatever the interleaving.
IMX_KERNEL void bit_atomics_kernel(unsigned* words, int* exchanged, int* exchange_slot) {
  const unsigned t = threadIdx.x;
  atomicOr(&words[0], 1u << (t % 32));
  atomicAnd(&words[1], ~(1u << (t % 32)));
  atomicXor(&words[2], 1u << (t % 8));
  atomicInc(&words[3], 6u);  // counts 0..6 then wraps to 0
  atomicDec(&words[4], 6u);
  exchanged[t] = atomicExch(exchange_slot, static_cast<int>(t));
}

__constant__ float kCoefficients[4];
IMX_KERNEL void constant_kernel(float* out) { out[threadIdx.x] = kCoefficients[threadIdx.x % 4] * 2.0f; }

}  // namespace imx::emu::runtime_test

namespace {

namespace rt = imx::emu::runtime_test;
using Catch::Matchers::Contains;
using imx::simt::Schedule;
using imx::simt::ScopedSchedule;
using imx::simt::SimtError;
using imx::simt_test::DeviceBuffer;

std::vector<unsigned> order_under(const Schedule& schedule, unsigned threads) {
  ScopedSchedule scope(schedule);
  DeviceBuffer<unsigned> counter(std::vector<unsigned>{0});
  DeviceBuffer<unsigned> order(2 * threads);
  IMX_LAUNCH(rt::record_order, 1, threads, 0, 0)(counter.get(), order.get());
  return order.download();
}

}  // namespace

TEST_CASE("schedules parse and print", "[simt][schedule]") {
  CHECK(Schedule::parse("inorder") == Schedule{});
  CHECK(Schedule::parse("in-order") == Schedule{});
  CHECK(Schedule::parse("reverse") == Schedule{Schedule::Order::Reverse, 0});
  CHECK(Schedule::parse("random:42") == Schedule{Schedule::Order::Random, 42});
  CHECK(Schedule::parse("random:42").to_string() == "random:42");
  CHECK_THROWS_AS(Schedule::parse("random"), std::invalid_argument);
  CHECK_THROWS_AS(Schedule::parse("random:x1"), std::invalid_argument);
  CHECK_THROWS_AS(Schedule::parse("shuffled"), std::invalid_argument);
}

TEST_CASE("schedules order threads between barriers as documented", "[simt][schedule]") {
  const unsigned n = 40;
  std::vector<unsigned> ascending(n);
  std::iota(ascending.begin(), ascending.end(), 0u);
  const auto phase = [](const std::vector<unsigned>& order, int p, unsigned count) {
    return std::vector<unsigned>(order.begin() + p * count, order.begin() + (p + 1) * count);
  };
  const auto minus_1000 = [](std::vector<unsigned> v) {
    for (unsigned& x : v) x -= 1000;
    return v;
  };

  const std::vector<unsigned> in_order = order_under(Schedule{}, n);
  CHECK(phase(in_order, 0, n) == ascending);
  CHECK(minus_1000(phase(in_order, 1, n)) == ascending);

  const std::vector<unsigned> reverse = order_under(Schedule{Schedule::Order::Reverse, 0}, n);
  std::vector<unsigned> descending(ascending.rbegin(), ascending.rend());
  CHECK(phase(reverse, 0, n) == descending);
  CHECK(minus_1000(phase(reverse, 1, n)) == descending);

  const std::vector<unsigned> random1 = order_under(Schedule{Schedule::Order::Random, 1}, n);
  const std::vector<unsigned> random1_again = order_under(Schedule{Schedule::Order::Random, 1}, n);
  const std::vector<unsigned> random2 = order_under(Schedule{Schedule::Order::Random, 2}, n);
  CHECK(random1 == random1_again);  // reproducible from the seed
  CHECK(random1 != random2);
  for (const auto* order : {&random1, &random2}) {
    std::vector<unsigned> before = phase(*order, 0, n), after = minus_1000(phase(*order, 1, n));
    CHECK(before != ascending);
    // The barrier still separates the phases: each is a permutation of all threads.
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    CHECK(before == ascending);
    CHECK(after == ascending);
  }
}

TEST_CASE("launch configurations the device would reject are rejected", "[simt][launch]") {
  CHECK_THROWS_WITH(IMX_LAUNCH(rt::empty_kernel, 1, 1025, 0, 0)(), Contains("device limits"));
  CHECK_THROWS_WITH(IMX_LAUNCH(rt::empty_kernel, 1, dim3(32, 33), 0, 0)(), Contains("at most 1024"));
  CHECK_THROWS_WITH(IMX_LAUNCH(rt::empty_kernel, 1, dim3(1, 1, 65), 0, 0)(), Contains("device limits"));
  CHECK_THROWS_WITH(IMX_LAUNCH(rt::empty_kernel, dim3(1, 0), 32, 0, 0)(), Contains("zero extent"));
  CHECK_THROWS_WITH(IMX_LAUNCH(rt::empty_kernel, dim3(1, 70000), 32, 0, 0)(), Contains("device limits"));
  CHECK_NOTHROW(IMX_LAUNCH(rt::empty_kernel, dim3(2, 3, 4), dim3(8, 8, 16), 0, 0)());
}

TEST_CASE("dynamic shared memory: limit, opt-in, exact size, never zeroed", "[simt][shared]") {
  const int threads = 64;
  DeviceBuffer<float> first(3);
  // Above 48 KiB needs the opt-in attribute, as on the device.
  const std::size_t big = 64 * 1024;
  CHECK_THROWS_WITH(IMX_LAUNCH(rt::dynamic_shared_probe, 3, threads, big, 0)(first.get(), threads),
                    Contains("cudaFuncSetAttribute"));
  CHECK(cudaFuncSetAttribute(rt::dynamic_shared_probe, cudaFuncAttributeMaxDynamicSharedMemorySize, 300 * 1024) ==
        cudaErrorInvalidValue);
  REQUIRE(cudaFuncSetAttribute(rt::dynamic_shared_probe, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(big)) == cudaSuccess);
  CHECK_NOTHROW(IMX_LAUNCH(rt::dynamic_shared_probe, 3, threads, big, 0)(first.get(), threads));
  // Every block starts from poison (NaN), not from zero or from the previous block's data.
  IMX_LAUNCH(rt::dynamic_shared_probe, 3, threads, threads * sizeof(float), 0)(first.get(), threads);
  for (const float v : first.download()) CHECK(std::isnan(v));
}

TEST_CASE("emulated device memory is exact-size, poisoned, and the runtime shims check arguments",
          "[simt][memory]") {
  float* p = imx::simt::device_alloc<float>(3);
  REQUIRE(p != nullptr);
  CHECK(std::isnan(p[0]));
  CHECK(std::isnan(p[2]));
  imx::simt::device_free(p);
  void* zero = reinterpret_cast<void*>(1);
  CHECK(cudaMalloc(&zero, 0) == cudaSuccess);
  CHECK(zero == nullptr);
  CHECK(cudaMemcpy(nullptr, &p, 4, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(cudaMemset(nullptr, 0, 4) == cudaErrorInvalidValue);
  CHECK(std::string(cudaGetErrorString(cudaErrorMemoryAllocation)) == "out of memory");
}

TEST_CASE("__constant__ memory is written with cudaMemcpyToSymbol", "[simt][memory]") {
  const float coefficients[4] = {1.5f, -2.0f, 3.0f, 0.25f};
  REQUIRE(cudaMemcpyToSymbol(rt::kCoefficients, coefficients, sizeof coefficients) == cudaSuccess);
  CHECK(cudaMemcpyToSymbol(rt::kCoefficients, coefficients, sizeof coefficients, 4) == cudaErrorInvalidValue);
  DeviceBuffer<float> out(8);
  IMX_LAUNCH(rt::constant_kernel, 1, 8, 0, 0)(out.get());
  const std::vector<float> got = out.download();
  for (int i = 0; i < 8; ++i) CHECK(got[i] == coefficients[i % 4] * 2.0f);
}

TEST_CASE("device built-ins used outside a kernel are reported", "[simt][launch]") {
  CHECK_THROWS_WITH(static_cast<void>(threadIdx.x), Contains("threadIdx used outside a running kernel"));
  CHECK_THROWS_WITH(static_cast<void>(blockDim.x), Contains("outside a running kernel"));
  CHECK_THROWS_WITH(__syncthreads(), Contains("__syncthreads used outside a running kernel"));
  CHECK_THROWS_WITH(__syncwarp(), Contains("__syncwarp used outside a running kernel"));
}

TEST_CASE("a launch from inside a kernel is reported", "[simt][launch]") {
  CHECK_THROWS_WITH(IMX_LAUNCH(rt::nested_launch_kernel, 1, 4, 0, 0)(), Contains("dynamic parallelism"));
}

TEST_CASE("an exception thrown by a kernel thread reaches the launcher; the next launch works", "[simt][launch]") {
  CHECK_THROWS_WITH(IMX_LAUNCH(rt::throwing_kernel, 2, 64, 0, 0)(37), Contains("kernel-side failure"));
  CHECK_NOTHROW(IMX_LAUNCH(rt::throwing_kernel, 2, 64, 0, 0)(-1));
}

TEST_CASE("a deadlock no eager check catches is diagnosed, not hung", "[simt][misuse]") {
  for (const auto& schedule : imx::simt::standard_schedules()) {
    ScopedSchedule scope(schedule);
    CAPTURE(schedule.to_string());
    CHECK_THROWS_WITH(IMX_LAUNCH(rt::cyclic_syncwarp_kernel, 1, 3, 0, 0)(),
                      Contains("deadlock") && Contains("__syncwarp() at") && Contains("test_runtime.cpp"));
  }
}

TEST_CASE("fiber stacks hold a 16 KiB frame; too-small stack sizes are refused", "[simt][launch]") {
  DeviceBuffer<float> out(32);
  IMX_LAUNCH(rt::deep_stack_kernel, 1, 32, 0, 0)(out.get());
  const std::vector<float> got = out.download();
  for (int t = 0; t < 32; ++t) CHECK(got[t] == static_cast<float>(4096 * t + 4095 * 4096 / 2));
  CHECK_THROWS_AS(imx::simt::set_stack_size(1000), std::invalid_argument);
}

TEST_CASE("bitwise, wrap-around and exchange atomics", "[simt][atomic]") {
  const unsigned threads = 40;
  DeviceBuffer<unsigned> words(std::vector<unsigned>{0u, 0xffffffffu, 0u, 0u, 0u});
  DeviceBuffer<int> exchanged(threads);
  DeviceBuffer<int> slot(std::vector<int>{-1});
  IMX_LAUNCH(rt::bit_atomics_kernel, 1, threads, 0, 0)(words.get(), exchanged.get(), slot.get());
  const std::vector<unsigned> w = words.download();
  CHECK(w[0] == 0xffffffffu);
  CHECK(w[1] == 0u);
  CHECK(w[2] == 0xffu);         // each of bits 0..7 toggled 40 / 8 = 5 times: set
  CHECK(w[3] == threads % 7);   // atomicInc with limit 6 counts modulo 7
  CHECK(w[4] == (7 - threads % 7) % 7);  // atomicDec from 0 wraps to 6, then counts down
  // Exchanges form one chain: the old values plus the final value are {-1, 0, ..., 39}.
  std::vector<int> seen = exchanged.download();
  seen.push_back(slot.download()[0]);
  std::sort(seen.begin(), seen.end());
  std::vector<int> want(threads + 1);
  std::iota(want.begin(), want.end(), -1);
  CHECK(seen == want);
}

TEST_CASE("a failure in one worker's block stops the launch; the next launch works", "[simt][workers]") {
  imx::simt::set_workers(2);
  CHECK_THROWS_WITH(IMX_LAUNCH(rt::throwing_kernel, 9, 32, 0, 0)(5), Contains("kernel-side failure"));
  CHECK_NOTHROW(IMX_LAUNCH(rt::throwing_kernel, 9, 32, 0, 0)(-1));
  imx::simt::set_workers(1);
}

TEST_CASE("statistics count launches, blocks and threads", "[simt][stats]") {
  imx::simt::reset_stats();
  IMX_LAUNCH(rt::empty_kernel, dim3(3, 2), 50, 0, 0)();
  IMX_LAUNCH(rt::empty_kernel, 1, 7, 0, 0)();
  const imx::simt::Stats s = imx::simt::stats();
  CHECK(s.launches == 2);
  CHECK(s.blocks == 7);
  CHECK(s.threads == 6 * 50 + 7);
  CHECK(s.context_switches == 2 * s.threads);  // one resume per thread: no barriers
}
