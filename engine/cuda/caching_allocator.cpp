#include "engine/cuda/caching_allocator.h"

#include <algorithm>

#include "engine/cuda/check.h"

namespace imx {

size_t CachingAllocator::rounded(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = 2 << 20;
  if (bytes < (1 << 20)) return std::max(kSmall, (bytes + kSmall - 1) / kSmall * kSmall);
  return (bytes + kLarge - 1) / kLarge * kLarge;
}

std::shared_ptr<void> CachingAllocator::allocate(size_t bytes) {
  const size_t size = caching_ ? rounded(bytes) : bytes;
  void* p = nullptr;
  if (caching_) {
    std::lock_guard lock(mu_);
    // Exact-size reuse only: a larger block would strand memory in a long-lived tensor.
    auto it = free_.find(size);
    if (it != free_.end()) {
      p = it->second;
      free_.erase(it);
      stats_.cache_hits++;
      stats_.bytes_cached -= size;
    }
  }
  if (!p && size > 0) {
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();  // clear the sticky-free error before retrying
      release_cache();
      err = cudaMalloc(&p, size);
    }
    if (err != cudaSuccess)
      throw Error("cuda: cudaMalloc of " + std::to_string(bytes) + " bytes failed: " +
                  cudaGetErrorString(err));
    std::lock_guard lock(mu_);
    stats_.cuda_mallocs++;
  }
  {
    std::lock_guard lock(mu_);
    stats_.bytes_in_use += size;
    stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  }
  return std::shared_ptr<void>(p, [this, size](void* q) { give_back(q, size); });
}

void CachingAllocator::give_back(void* p, size_t bytes) {
  if (!caching_) {
    // cudaFree waits for the device's work, some of which may still use the block.
    if (p) (void)cudaFree(p);
    std::lock_guard lock(mu_);
    stats_.bytes_in_use -= bytes;
    return;
  }
  // Work queued on the backend's single stream that still reads this block runs before any
  // later work that reuses it, so no synchronization is needed here.
  std::lock_guard lock(mu_);
  free_.emplace(bytes, p);
  stats_.bytes_in_use -= bytes;
  stats_.bytes_cached += bytes;
}

void CachingAllocator::release_cache() {
  std::lock_guard lock(mu_);
  if (!free_.empty()) cudaDeviceSynchronize();
  for (auto& [size, p] : free_) cudaFree(p);
  free_.clear();
  stats_.bytes_cached = 0;
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace imx
