// Emulated device memory and the subset of the CUDA runtime API that launchers and tests use.
// "Device" memory is host heap memory allocated with exactly the requested size (so that
// AddressSanitizer reports a one-element overrun) and filled with 0xFF bytes (NaN for
// floats), because real device memory is not zeroed either.
#pragma once

#include <cstddef>

#include "kernels/simt/emu/launch.h"
#include "kernels/simt/emu/types.h"

namespace imx::simt {

void* device_malloc(std::size_t bytes);  // throws std::bad_alloc; nullptr for 0 bytes
void device_free(void* pointer) noexcept;

template <class T>
T* device_alloc(std::size_t count) {
  return static_cast<T*>(device_malloc(count * sizeof(T)));
}

}  // namespace imx::simt

// Named like the runtime API; simt.h imports them into the global namespace of emulation
// translation units only, so they never clash with libcudart's C symbols.
namespace imx::simt::runtime_api {

using cudaStream_t = Stream;

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
};

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
};

cudaError_t cudaMalloc(void** pointer, std::size_t bytes);
template <class T>
cudaError_t cudaMalloc(T** pointer, std::size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(pointer), bytes);
}
cudaError_t cudaFree(void* pointer);
cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* dst, int value, std::size_t bytes);
cudaError_t cudaMemsetAsync(void* dst, int value, std::size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaDeviceSynchronize();
// Launch failures are thrown as SimtError at the launch, so there is never a pending error.
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t error);

template <class... Params>
cudaError_t cudaFuncSetAttribute(void (*kernel)(Params...), cudaFuncAttribute attribute, int value) {
  constexpr int kDeviceMaximum = 227 * 1024;  // sm_90 opt-in limit
  if (attribute != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || value > kDeviceMaximum) {
    return cudaErrorInvalidValue;
  }
  detail::set_max_dynamic_shared_bytes(reinterpret_cast<const void*>(kernel), static_cast<std::size_t>(value));
  return cudaSuccess;
}

// __constant__ and __device__ variables are ordinary globals in the emulation.
template <class T>
cudaError_t cudaMemcpyToSymbol(const T& symbol, const void* src, std::size_t bytes,
                               std::size_t offset = 0, cudaMemcpyKind kind = cudaMemcpyHostToDevice) {
  if (offset + bytes > sizeof(T)) return cudaErrorInvalidValue;
  return cudaMemcpy(reinterpret_cast<unsigned char*>(const_cast<T*>(&symbol)) + offset, src, bytes, kind);
}
template <class T>
cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, std::size_t bytes,
                                 std::size_t offset = 0, cudaMemcpyKind kind = cudaMemcpyDeviceToHost) {
  if (offset + bytes > sizeof(T)) return cudaErrorInvalidValue;
  return cudaMemcpy(dst, reinterpret_cast<const unsigned char*>(&symbol) + offset, bytes, kind);
}

}  // namespace imx::simt::runtime_api
