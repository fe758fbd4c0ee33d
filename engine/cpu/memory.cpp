// Allocation, fill and copies on the CPU.
#include <cstring>

#include "engine/cpu/caching_allocator.h"
#include "engine/cpu/cpu_backend.h"

namespace imx {

std::shared_ptr<void> CpuBackend::allocate(size_t bytes) {
  return cpu::CachingAllocator::instance().allocate(bytes);
}

MemoryStats CpuBackend::memory_stats() const { return cpu::CachingAllocator::instance().stats(); }
void CpuBackend::reset_peak_memory() { cpu::CachingAllocator::instance().reset_peak(); }
void CpuBackend::empty_cache() { cpu::CachingAllocator::instance().empty_cache(); }

void CpuBackend::fill(Tensor& out, double value) {
  dispatch(out.dtype(), [&]<class T>() {
    T* p = out.data<T>();
    const int64_t n = out.numel();
    const T v = static_cast<T>(value);
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i) p[i] = v;
  });
}

void CpuBackend::copy(const Tensor& src, Tensor& dst) {
  check(src.device() == Device::CPU && dst.device() == Device::CPU, "cpu copy",
        "both tensors must be on the CPU");
  check(src.numel() == dst.numel(), "cpu copy", src.describe() + " into " + dst.describe());
  if (src.dtype() == dst.dtype()) {
    std::memcpy(dst.raw(), src.raw(), src.nbytes());
    return;
  }
  dispatch(src.dtype(), [&]<class S>() {
    dispatch(dst.dtype(), [&]<class D>() {
      const S* s = src.data<S>();
      D* d = dst.data<D>();
      for (int64_t i = 0; i < src.numel(); ++i) d[i] = static_cast<D>(s[i]);
    });
  });
}

}  // namespace imx
