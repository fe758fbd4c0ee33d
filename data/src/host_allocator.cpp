#include "imx/data/host_allocator.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <utility>

#if defined(IMX_HAVE_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace imx::data {

namespace {
constexpr std::size_t kAlignment = 64;
}

void* AlignedAllocator::allocate(std::size_t bytes) {
  // aligned_alloc needs a size that is a multiple of the alignment.
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (!p) throw std::bad_alloc();
  return p;
}

void AlignedAllocator::deallocate(void* p, std::size_t) noexcept { std::free(p); }

PinnedAllocator::PinnedAllocator() {
#if defined(IMX_HAVE_CUDA)
  int devices = 0;
  use_cuda_ = cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
  if (!use_cuda_) (void)cudaGetLastError();  // clear the sticky "no device" error
#endif
}

void* PinnedAllocator::allocate(std::size_t bytes) {
#if defined(IMX_HAVE_CUDA)
  if (use_cuda_) {
    void* p = nullptr;
    if (cudaHostAlloc(&p, std::max<std::size_t>(bytes, 1), cudaHostAllocPortable) != cudaSuccess) {
      (void)cudaGetLastError();
      throw std::bad_alloc();
    }
    return p;
  }
#endif
  return fallback_.allocate(bytes);
}

void PinnedAllocator::deallocate(void* p, std::size_t bytes) noexcept {
#if defined(IMX_HAVE_CUDA)
  if (use_cuda_) {
    cudaFreeHost(p);
    return;
  }
#endif
  fallback_.deallocate(p, bytes);
}

PoolAllocator::PoolAllocator(std::shared_ptr<HostAllocator> upstream) : upstream_(std::move(upstream)) {}

PoolAllocator::~PoolAllocator() {
  for (auto& [bytes, p] : free_) upstream_->deallocate(p, bytes);
}

void* PoolAllocator::allocate(std::size_t bytes) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = free_.find(bytes); it != free_.end()) {
      void* p = it->second;
      free_.erase(it);
      return p;
    }
  }
  return upstream_->allocate(bytes);
}

void PoolAllocator::deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  try {
    std::lock_guard lock(mutex_);
    free_.emplace(bytes, p);
  } catch (...) {
    upstream_->deallocate(p, bytes);
  }
}

std::size_t PoolAllocator::cached_blocks() const {
  std::lock_guard lock(mutex_);
  return free_.size();
}

HostBuffer::HostBuffer(std::size_t count, std::shared_ptr<HostAllocator> allocator)
    : size_(count), allocator_(std::move(allocator)) {
  data_ = static_cast<float*>(allocator_->allocate(count * sizeof(float)));
}

HostBuffer::HostBuffer(HostBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      allocator_(std::move(other.allocator_)) {}

HostBuffer& HostBuffer::operator=(HostBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    allocator_ = std::move(other.allocator_);
  }
  return *this;
}

HostBuffer::~HostBuffer() { release(); }

void HostBuffer::release() noexcept {
  if (data_) allocator_->deallocate(data_, size_ * sizeof(float));
  data_ = nullptr;
  size_ = 0;
}

}  // namespace imx::data
