// Shared plumbing of the kernel tests: the CPU backend as the reference, device buffers, the
// schedules every kernel runs under, sizes that shrink in the sanitizer builds, and
// comparisons that print the first mismatches.
//
// The same test sources build two ways:
//  * against the SIMT emulation (IMX_SIMT_EMU: kernel_ops_tests and its sanitizer variants),
//    where every case runs under the emulation's standard schedules;
//  * against the real CUDA build (IMX_SIMT_CUDA_HOST: kernel_ops_cuda_tests), where every case
//    runs once on the device, or is skipped with a message when there is no device.
#pragma once
#include <catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/tensor.h"
// After the engine headers: simt.h (through launchers.h) defines CUDA's names as macros.
#include "kernels/ops/launchers.h"

namespace imx::kernel_test {

namespace ops = imx::IMX_KNS;

// The sanitizer variants run the same cases at small sizes (about one or two blocks per
// launch): ThreadSanitizer makes every emulated GPU thread much slower.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// `full` in the default build, `small` in the sanitizer builds.
template <class T>
const T& sized(const T& full, const T& small) {
  return kSanitized ? small : full;
}

inline void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("tests/kernels: ") + what + " failed: " + cudaGetErrorString(status));
}

// Device memory of exactly `count` elements (the emulation's cudaMalloc allocates exactly that,
// so the ASan variant sees a one-element overrun), with synchronous copies.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count > 0) check_cuda(cudaMalloc(reinterpret_cast<void**>(&data_), count * sizeof(T)), "cudaMalloc");
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() {
    if (data_ != nullptr) cudaFree(data_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return data_; }
  size_t size() const { return count_ * sizeof(T); }
  void upload(const std::vector<T>& host) {
    REQUIRE(host.size() == count_);
    if (count_ > 0) check_cuda(cudaMemcpy(data_, host.data(), count_ * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
  }
  // Waits for the launches before it (the default stream), reporting their errors.
  std::vector<T> download() const {
    check_cuda(cudaGetLastError(), "a kernel launch");
    std::vector<T> host(count_);
    if (count_ > 0) check_cuda(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy from device");
    return host;
  }

 private:
  size_t count_;
  T* data_ = nullptr;
};

// The launchers that take a workspace, called as the CUDA backend calls them: with a device
// workspace of exactly the size they ask for, held until their work has finished.
inline void sum_to(const float* x, const Dims& x_shape, const Dims& out_strides, float* out, int64_t out_numel) {
  const DeviceBuffer<unsigned char> workspace(ops::sum_to_workspace_bytes(x_shape, out_strides, out_numel));
  ops::sum_to(x, x_shape, out_strides, out, out_numel, workspace.get(), workspace.size(), nullptr);
  check_cuda(cudaDeviceSynchronize(), "sum_to");
}
inline void layernorm_backward(const NormGeometry& g, const float* x, const float* gamma, const float* mean,
                               const float* invstd, const float* gy, float* gx, float* ggamma, float* gbeta) {
  const DeviceBuffer<unsigned char> workspace(ops::layernorm_backward_workspace_bytes(g));
  ops::layernorm_backward(g, x, gamma, mean, invstd, gy, gx, ggamma, gbeta, workspace.get(), workspace.size(),
                          nullptr);
  check_cuda(cudaDeviceSynchronize(), "layernorm_backward");
}

#if defined(IMX_SIMT_EMU)

// Calls body() once per standard schedule (in-order, reverse, three seeded random orders),
// with the schedule named in any failure message. The sanitizer builds use the in-order
// schedule only: their findings do not depend on the order (ThreadSanitizer sees a missing
// barrier through the release/acquire annotations at barriers whatever the order; an overrun
// is an overrun), and the default build covers the orders.
template <class F>
void for_each_schedule(F&& body) {
  for (const imx::simt::Schedule& schedule : imx::simt::standard_schedules()) {
    if (kSanitized && schedule.order != imx::simt::Schedule::Order::InOrder) continue;
    imx::simt::ScopedSchedule scoped(schedule);
    INFO("schedule " << schedule.to_string());
    body();
  }
}

// Only the in-order schedule: for the large cases, whose index math the other orders do not
// exercise any differently than the small cases' do.
template <class F>
void in_order(F&& body) {
  imx::simt::ScopedSchedule scoped(imx::simt::Schedule{});
  body();
}

#else  // the CUDA build: one run on the device

// main() (cmake/cuda_test_main.cpp) only runs the cases when a device answers.
template <class F>
void for_each_schedule(F&& body) {
  body();
}
template <class F>
void in_order(F&& body) {
  body();
}

#endif

inline std::vector<float> random_floats(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Integers in [lo, hi]. As floats: sums and products of a few are exact, so indexing mistakes
// give unmistakable mismatches and any summation order gives the same bits.
inline std::vector<int32_t> random_ints(size_t n, int lo, int hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = dist(rng);
  return v;
}
inline std::vector<float> random_int_floats(size_t n, int lo, int hi, uint64_t seed) {
  const std::vector<int32_t> ints = random_ints(n, lo, hi, seed);
  return std::vector<float>(ints.begin(), ints.end());
}

// CPU tensors holding the given values (float32), for the reference backend.
inline Tensor cpu_tensor(const std::vector<float>& values, const Shape& shape) {
  return Tensor::from(std::vector<double>(values.begin(), values.end()), shape, DType::F32);
}
inline Tensor cpu_empty(const Shape& shape) { return Tensor::zeros(shape, DType::F32); }

// The CPU backend's nll loss of float32 values, computed in float64 (the values are exact there).
inline double cpu_nll(const std::vector<float>& logp, const Shape& shape, const std::vector<int32_t>& labels) {
  const Tensor x = Tensor::from(std::vector<double>(logp.begin(), logp.end()), shape, DType::F64);
  Tensor loss = Tensor::zeros({}, DType::F64);
  cpu_backend().nll_forward(x, labels, loss);
  return loss.item();
}

inline std::vector<float> as_floats(const Tensor& t) {
  const std::vector<double> v = t.to_vector();
  return std::vector<float>(v.begin(), v.end());
}

inline Dims to_dims(const Shape& s) {
  Dims d;
  d.rank = static_cast<int>(s.size());
  for (size_t i = 0; i < s.size(); ++i) d.d[i] = s[i];
  return d;
}

// got vs want, with |got - want| <= tol * scale everywhere, where scale defaults to max |want|
// (the error relative to the largest reference entry); prints the first mismatches. tol = 0
// demands bitwise equality (NaN equal to NaN).
inline void check_close(const std::vector<float>& got, const std::vector<float>& want, double tol,
                        const std::string& what, double scale = 0.0) {
  REQUIRE(got.size() == want.size());
  if (scale == 0.0)
    for (float w : want) scale = std::max(scale, std::abs(static_cast<double>(w)));
  scale = std::max(scale, 1e-30);
  std::ostringstream report;
  size_t bad = 0;
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    const bool equal = tol == 0.0 ? (std::memcmp(&got[i], &want[i], sizeof(float)) == 0 ||
                                     (std::isnan(g) && std::isnan(w)))
                                  : std::abs(g - w) <= tol * scale;
    if (!std::isnan(g - w)) worst = std::max(worst, std::abs(g - w) / scale);
    if (!equal && ++bad <= 5) report << "  [" << i << "] got " << g << " want " << w << "\n";
  }
  INFO(what << ": " << bad << " of " << got.size() << " entries differ (tolerance " << tol
            << " x " << scale << ", worst relative error " << worst << ")\n"
            << report.str());
  CHECK(bad == 0);
}

}  // namespace imx::kernel_test
