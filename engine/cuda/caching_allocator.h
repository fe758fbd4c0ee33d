// Device memory through a cache of freed blocks, so a training step does no cudaMalloc once
// the first steps have sized the cache. Blocks are bucketed by rounded size; a failed
// cudaMalloc releases the cache and retries once before reporting. In pass-through mode
// (caching = false, IMX_CUDA_ALLOCATOR=passthrough) every allocation is a cudaMalloc of the
// exact size and every release a cudaFree, so compute-sanitizer's memcheck sees each
// tensor's real bounds and lifetime.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace imx {

class CachingAllocator {
 public:
  explicit CachingAllocator(bool caching = true) : caching_(caching) {}
  bool caching() const { return caching_; }
  std::shared_ptr<void> allocate(size_t bytes);
  // Returns every cached block to the driver.
  void release_cache();

  struct Stats {
    size_t cuda_mallocs = 0, cache_hits = 0, bytes_in_use = 0, bytes_cached = 0,
           peak_bytes_in_use = 0;
  };
  Stats stats() const;

  // Allocation sizes are rounded up to this granularity (so blocks can be reused).
  static size_t rounded(size_t bytes);

 private:
  void give_back(void* p, size_t bytes);
  const bool caching_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;
  Stats stats_;
};

}  // namespace imx
