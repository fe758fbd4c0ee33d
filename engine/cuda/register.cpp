// Registers the CUDA backend with the engine when this library is linked (whole-archive, see
// engine/CMakeLists.txt). The backend is built on first use, and only when a device answers.
#include <cuda_runtime_api.h>

#include "engine/cuda/cuda_backend.h"

namespace imx {

namespace {

Backend* make_cuda_backend(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    *why = std::string("no CUDA device: ") +
           (err != cudaSuccess ? cudaGetErrorString(err) : "the driver reports 0 devices");
    (void)cudaGetLastError();
    return nullptr;
  }
  try {
    // Lives until exit: tensors freed by static destructors still return memory to it.
    return new CudaBackend(cuda_options_from_env());
  } catch (const std::exception& e) {
    *why = e.what();
    return nullptr;
  }
}

const bool registered = (register_cuda_backend(make_cuda_backend), true);

}  // namespace

}  // namespace imx
