// The CPU backend's caching allocator. Every training step allocates the same tensor sizes
// again; served from the system, blocks of 32 MiB or more are mmap'ed and page-faulted in
// afresh each time (glibc's mmap threshold cannot be raised past 32 MiB), and smaller ones
// still pay malloc's bookkeeping. Freed blocks are instead kept in size buckets and handed out
// again, so a steady-state step makes no system allocation at all.
//
// Buckets: sizes round up to one of four steps per power of two (2^k, 1.25·2^k, 1.5·2^k,
// 1.75·2^k; at least 64 bytes), so a block is at most 25% larger than asked and a bucket
// serves any request that rounds to it. Cached blocks are kept until empty_cache() (as
// PyTorch's CUDA allocator does). Thread-safe (the input pipeline allocates from its workers).
// Built with AddressSanitizer it passes every request to the system, so that use-after-free
// is still caught.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/memory_stats.h"

namespace imx::cpu {

class CachingAllocator {
 public:
  // The process-wide allocator of the CPU backend (never destroyed: tensors in static storage
  // may be freed after main returns).
  static CachingAllocator& instance();

  // 64-byte aligned, uninitialized, at least one byte; freed back to the cache.
  std::shared_ptr<void> allocate(std::size_t bytes);
  // Returns every cached block to the system.
  void empty_cache();
  MemoryStats stats() const;
  // Starts a new measurement: peak := in use, counters := 0.
  void reset_peak();

  // The block size a request of `bytes` is rounded to.
  static std::size_t bucket_size(std::size_t bytes);

 private:
  CachingAllocator() = default;
  void release(void* p, std::size_t block);

  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;  // block size -> cached blocks
  MemoryStats stats_;
};

}  // namespace imx::cpu
