#include "engine/cpu/cpu_backend.h"

namespace imx {

namespace {
Backend* g_cuda = nullptr;
}

Backend& cpu_backend() {
  static CpuBackend cpu;
  return cpu;
}

void register_cuda_backend(Backend* b) { g_cuda = b; }
bool cuda_backend_available() { return g_cuda != nullptr; }

Backend& backend(Device d) {
  if (d == Device::CPU) return cpu_backend();
  if (!g_cuda)
    throw Error("cuda: no CUDA backend (built without nvcc, not linked, or no device present)");
  return *g_cuda;
}

}  // namespace imx
