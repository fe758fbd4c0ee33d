#include <malloc.h>

#include <mutex>

#include "engine/cpu/cpu_backend.h"

namespace imx {

namespace {

struct CudaSlot {
  std::once_flag once;
  CudaBackendFactory factory = nullptr;
  Backend* backend = nullptr;
  std::string why = "infomax was built without the CUDA backend (no nvcc at configure time)";
};

CudaSlot& cuda_slot() {
  static CudaSlot slot;
  return slot;
}

Backend* cuda_or_null() {
  CudaSlot& s = cuda_slot();
  std::call_once(s.once, [&s] {
    if (!s.factory) return;
    s.why.clear();
    s.backend = s.factory(&s.why);
  });
  return s.backend;
}

}  // namespace

Backend& cpu_backend() {
  static CpuBackend cpu;
  return cpu;
}

CpuBackend::CpuBackend() {
  // Tensors come from the caching allocator (cpu/caching_allocator.h). For the remaining heap
  // users keep freed memory in the heap instead of returning each large block to the kernel,
  // which glibc would mmap afresh and page-fault in on first touch. 32 MiB is the largest mmap
  // threshold glibc accepts (a larger value is refused and leaves the 128 KiB default).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

void register_cuda_backend(CudaBackendFactory factory) { cuda_slot().factory = factory; }

bool cuda_backend_available() { return cuda_or_null() != nullptr; }

std::string cuda_unavailable_reason() {
  return cuda_or_null() ? std::string() : cuda_slot().why;
}

Backend& backend(Device d) {
  if (d == Device::CPU) return cpu_backend();
  if (Backend* b = cuda_or_null()) return *b;
  throw Error("cuda: no CUDA backend: " + cuda_slot().why);
}

}  // namespace imx
