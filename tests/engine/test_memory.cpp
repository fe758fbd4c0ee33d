// The CPU caching allocator: bucket sizes, reuse of freed blocks, and its statistics.
#include "engine/backend.h"
#include "engine/cpu/caching_allocator.h"
#include "engine/ops.h"
#include "helpers.h"

using namespace imx;
using cpu::CachingAllocator;

TEST_CASE("buckets round up by at most a quarter, to 64-byte multiples", "[memory]") {
  CHECK(CachingAllocator::bucket_size(1) == 64);
  CHECK(CachingAllocator::bucket_size(64) == 64);
  CHECK(CachingAllocator::bucket_size(65) == 128);
  CHECK(CachingAllocator::bucket_size(1000) == 1024);
  CHECK(CachingAllocator::bucket_size(1025) == 1280);
  CHECK(CachingAllocator::bucket_size(2048) == 2048);
  for (std::size_t n : {std::size_t(100), std::size_t(4097), std::size_t(1) << 20, (std::size_t(33) << 20) + 7}) {
    const std::size_t b = CachingAllocator::bucket_size(n);
    CHECK(b >= n);
    CHECK(b % 64 == 0);
    CHECK(double(b) <= 1.25 * double(n) + 64);
    CHECK(CachingAllocator::bucket_size(b) == b);  // a bucket serves its own size
  }
}

#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("a freed block is handed out again without a system allocation", "[memory]") {
  Backend& cpu = cpu_backend();
  const Shape big{9, 1 << 20};  // 36 MiB: above glibc's largest mmap threshold
  { Tensor warm = Tensor::empty(big); }
  cpu.reset_peak_memory();
  const MemoryStats before = cpu.memory_stats();
  void* first = nullptr;
  {
    Tensor t = Tensor::empty(big);
    first = t.raw();
  }
  Tensor again = Tensor::empty(big);
  const MemoryStats after = cpu.memory_stats();
  CHECK(again.raw() == first);
  CHECK(after.allocations == 2);
  CHECK(after.system_allocations == 0);
  CHECK(after.peak_bytes == before.in_use_bytes + CachingAllocator::bucket_size(again.nbytes()));
  CHECK(reinterpret_cast<uintptr_t>(again.raw()) % 64 == 0);
  // Blocks of 4 MiB or more start on a 2 MiB boundary, where a transparent huge page can back them.
  CHECK(reinterpret_cast<uintptr_t>(again.raw()) % (2u << 20) == 0);
}
#endif

TEST_CASE("the peak follows live tensors and empty_cache returns cached blocks", "[memory]") {
  Backend& cpu = cpu_backend();
  cpu.reset_peak_memory();
  const std::size_t base = cpu.memory_stats().in_use_bytes;
  {
    Tensor a = Tensor::empty({1 << 18}), b = Tensor::empty({1 << 18});  // 1 MiB each
    CHECK(cpu.memory_stats().in_use_bytes == base + 2 * (std::size_t(1) << 20));
  }
  const MemoryStats s = cpu.memory_stats();
  CHECK(s.in_use_bytes == base);
  CHECK(s.peak_bytes >= base + 2 * (std::size_t(1) << 20));
  cpu.empty_cache();
  CHECK(cpu.memory_stats().cached_bytes == 0);
}
