// Emulated device buffers for the SIMT emulation tests (and, via test_data.h, test data).
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/simt/simt.h"
#include "tests/simt/test_data.h"

namespace imx::simt_test {

// A buffer of emulated device memory (exact size, initially 0xFF bytes).
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t count) : count_(count), data_(imx::simt::device_alloc<T>(count)) {}
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { imx::simt::device_free(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return data_; }
  std::size_t size() const { return count_; }
  void upload(const std::vector<T>& host) {
    cudaMemcpy(data_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }

 private:
  std::size_t count_;
  T* data_;
};

}  // namespace imx::simt_test
