#pragma once
// Host memory for batches, through a pluggable allocator so that the CUDA side can hand the
// loader page-locked (pinned) memory, which asynchronous host-to-device copies require.
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace imx::data {

class HostAllocator {
 public:
  virtual ~HostAllocator() = default;
  virtual void* allocate(std::size_t bytes) = 0;  // throws std::bad_alloc on failure
  virtual void deallocate(void* p, std::size_t bytes) noexcept = 0;
  virtual bool pinned() const noexcept { return false; }
  virtual std::string name() const = 0;
};

// 64-byte aligned heap memory.
class AlignedAllocator final : public HostAllocator {
 public:
  void* allocate(std::size_t bytes) override;
  void deallocate(void* p, std::size_t bytes) noexcept override;
  std::string name() const override { return "aligned"; }
};

// cudaHostAlloc when the build has CUDA (IMX_HAVE_CUDA) and a device is present at
// construction; otherwise aligned heap memory (pinned() tells which).
class PinnedAllocator final : public HostAllocator {
 public:
  PinnedAllocator();
  void* allocate(std::size_t bytes) override;
  void deallocate(void* p, std::size_t bytes) noexcept override;
  bool pinned() const noexcept override { return use_cuda_; }
  std::string name() const override { return use_cuda_ ? "pinned (cudaHostAlloc)" : "aligned (no CUDA device)"; }

 private:
  bool use_cuda_ = false;
  AlignedAllocator fallback_;
};

// Keeps released blocks for reuse by later requests of the same size (pinned allocation is
// slow); thread-safe. Cached blocks go back to `upstream` when the pool is destroyed.
class PoolAllocator final : public HostAllocator {
 public:
  explicit PoolAllocator(std::shared_ptr<HostAllocator> upstream);
  ~PoolAllocator() override;
  void* allocate(std::size_t bytes) override;
  void deallocate(void* p, std::size_t bytes) noexcept override;
  bool pinned() const noexcept override { return upstream_->pinned(); }
  std::string name() const override { return "pool of " + upstream_->name(); }
  std::size_t cached_blocks() const;

 private:
  std::shared_ptr<HostAllocator> upstream_;
  mutable std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;
};

// A float array owned through a HostAllocator (kept alive by the buffer): move-only.
class HostBuffer {
 public:
  HostBuffer() = default;
  HostBuffer(std::size_t count, std::shared_ptr<HostAllocator> allocator);
  HostBuffer(HostBuffer&& other) noexcept;
  HostBuffer& operator=(HostBuffer&& other) noexcept;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  ~HostBuffer();

  float* data() { return data_; }
  const float* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  float& operator[](std::size_t i) { return data_[i]; }
  const float& operator[](std::size_t i) const { return data_[i]; }
  float* begin() { return data_; }
  float* end() { return data_ + size_; }
  const float* begin() const { return data_; }
  const float* end() const { return data_ + size_; }
  std::span<float> span() { return {data_, size_}; }
  std::span<const float> span() const { return {data_, size_}; }
  bool pinned() const { return allocator_ && allocator_->pinned(); }

 private:
  void release() noexcept;
  float* data_ = nullptr;
  std::size_t size_ = 0;
  std::shared_ptr<HostAllocator> allocator_;
};

}  // namespace imx::data
