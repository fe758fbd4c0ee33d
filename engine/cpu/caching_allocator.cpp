#include "engine/cpu/caching_allocator.h"

#include <sys/mman.h>

#include <bit>
#include <cstdlib>
#include <string>

#include "engine/core.h"

#if defined(__SANITIZE_ADDRESS__)
#define IMX_CPU_CACHE 0
#else
#define IMX_CPU_CACHE 1
#endif

namespace imx::cpu {

namespace {

constexpr std::size_t kHugePage = std::size_t(2) << 20;

// Blocks of 4 MiB or more start on a 2 MiB boundary and are offered to the kernel for
// transparent huge pages (where THP is "madvise", as on these machines, nothing else gets
// them): the big activations, gradients and Adam states are streamed by one op after another,
// and with 4 KiB pages each stream walks a new page every 1024 floats.
void* system_allocate(std::size_t block) {
  const bool huge = block >= 2 * kHugePage;
  const std::size_t size = huge ? (block + kHugePage - 1) / kHugePage * kHugePage : block;
  void* p = std::aligned_alloc(huge ? kHugePage : 64, size);
  if (!p) throw Error("cpu: out of memory allocating " + std::to_string(block) + " bytes");
  if (huge) madvise(p, size, MADV_HUGEPAGE);  // advice only: without THP the pages stay small
  return p;
}

}  // namespace

CachingAllocator& CachingAllocator::instance() {
  static CachingAllocator* allocator = new CachingAllocator();
  return *allocator;
}

std::size_t CachingAllocator::bucket_size(std::size_t bytes) {
  if (bytes <= 64) return 64;
  // The power of two at or below bytes - 1, cut in four steps; round up to the next step.
  const std::size_t top = std::bit_floor(bytes - 1);
  const std::size_t step = top >= 256 ? top / 4 : 64;
  return (bytes + step - 1) / step * step;
}

std::shared_ptr<void> CachingAllocator::allocate(std::size_t bytes) {
  const std::size_t block = bucket_size(bytes);
  void* p = nullptr;
  {
    std::lock_guard lock(mutex_);
    ++stats_.allocations;
    auto it = free_.find(block);
    if (IMX_CPU_CACHE && it != free_.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= block;
    } else {
      ++stats_.system_allocations;
    }
    stats_.in_use_bytes += block;
    stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.in_use_bytes);
  }
  if (!p) {
    try {
      p = system_allocate(block);
    } catch (...) {
      std::lock_guard lock(mutex_);
      stats_.in_use_bytes -= block;
      throw;
    }
  }
  return std::shared_ptr<void>(p, [this, block](void* q) { release(q, block); });
}

void CachingAllocator::release(void* p, std::size_t block) {
  std::lock_guard lock(mutex_);
  stats_.in_use_bytes -= block;
  if (!IMX_CPU_CACHE) {
    std::free(p);
    return;
  }
  free_[block].push_back(p);
  stats_.cached_bytes += block;
}

void CachingAllocator::empty_cache() {
  std::lock_guard lock(mutex_);
  for (auto& [block, blocks] : free_)
    for (void* p : blocks) std::free(p);
  free_.clear();
  stats_.cached_bytes = 0;
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard lock(mutex_);
  stats_.peak_bytes = stats_.in_use_bytes;
  stats_.allocations = 0;
  stats_.system_allocations = 0;
}

}  // namespace imx::cpu
