#include "kernels/simt/emu/runtime_api.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace imx::simt {

void* device_malloc(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  // malloc, not a pool or a rounded size: AddressSanitizer then reports the first byte past
  // the end of every buffer.
  void* memory = std::malloc(bytes);
  if (memory == nullptr) throw std::bad_alloc();
  std::memset(memory, 0xFF, bytes);  // device memory is not zeroed; 0xFF bytes read as NaN
  return memory;
}

void device_free(void* pointer) noexcept { std::free(pointer); }

}  // namespace imx::simt

namespace imx::simt::runtime_api {

cudaError_t cudaMalloc(void** pointer, std::size_t bytes) {
  if (pointer == nullptr) return cudaErrorInvalidValue;
  try {
    *pointer = device_malloc(bytes);
  } catch (const std::bad_alloc&) {
    *pointer = nullptr;
    return cudaErrorMemoryAllocation;
  }
  return cudaSuccess;
}

cudaError_t cudaFree(void* pointer) {
  device_free(pointer);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return cudaErrorInvalidValue;
  if (bytes == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) return cudaErrorInvalidValue;
  std::memcpy(dst, src, bytes);  // overlapping ranges are an error on the device too
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* dst, int value, std::size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (dst == nullptr) return cudaErrorInvalidValue;
  std::memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* dst, int value, std::size_t bytes, cudaStream_t) {
  return cudaMemset(dst, value, bytes);
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  if (stream == nullptr) return cudaErrorInvalidValue;
  *stream = nullptr;  // every stream is the synchronous emulated one
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaGetLastError() { return cudaSuccess; }
cudaError_t cudaPeekAtLastError() { return cudaSuccess; }

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
  }
  return "unknown error";
}

}  // namespace imx::simt::runtime_api
