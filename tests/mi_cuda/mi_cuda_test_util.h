// Shared plumbing of the CUDA MI loss tests. Written against imx::mi::IMX_KNS and the CUDA
// runtime API, so the same test sources run against the emulated build (imx::mi::emu, CI) and,
// where a device answers, against the nvcc build (imx::mi::cuda, mi_cuda_device_tests).
#pragma once
#include <catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "losses/mi_cuda/mi_cuda.h"
#include "tests/mi/mi_test_util.h"

namespace imx::mi::cuda_test {

namespace dev = imx::mi::IMX_KNS;
using namespace imx::mi::test;

// The sanitizer variants of the emulated test binary run small cases only (TSan is ~50x
// slower).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

inline void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

// Device memory of exactly `count` elements (the emulation then lets ASan see any overrun;
// fresh memory holds garbage there too: 0xFF bytes, NaN as floats).
template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t count) : count_(count) {
    if (count_ > 0) check_cuda(cudaMalloc(reinterpret_cast<void**>(&data_), count_ * sizeof(T)), "cudaMalloc");
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) {
    if (count_ > 0)
      check_cuda(cudaMemcpy(data_, host.data(), count_ * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
  }
  ~DeviceArray() {
    if (data_ != nullptr) cudaFree(data_);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return data_; }
  std::size_t size() const { return count_; }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    if (count_ > 0)
      check_cuda(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
    return host;
  }

 private:
  std::size_t count_;
  T* data_ = nullptr;
};

struct Request {
  bool grad_local = true;
  bool grad_global = true;
  float grad_scale = 1.0f;
  dev::KernelTuning tuning{};
};

// One device call with a workspace of exactly the reported size. Gradients not requested come
// back empty.
inline Outcome<float> run_device(Impl impl, const Problem& pb, Estimator e, const std::vector<float>& L,
                                 const std::vector<float>& G, const Request& req = {}) {
  const DeviceArray<float> local(L), global(G);
  DeviceArray<float> dlocal(req.grad_local ? L.size() : 0), dglobal(req.grad_global ? G.size() : 0);
  const bool grads = req.grad_local || req.grad_global;
  DeviceArray<unsigned char> workspace(dev::workspace_bytes(impl, pb, e, grads, req.tuning));
  Outcome<float> out;
  out.loss = dev::compute(impl, pb, e, local.get(), global.get(), req.grad_local ? dlocal.get() : nullptr,
                          req.grad_global ? dglobal.get() : nullptr, req.grad_scale, workspace.get(),
                          workspace.size(), nullptr, req.tuning);
  if (req.grad_local) out.dlocal = dlocal.download();
  if (req.grad_global) out.dglobal = dglobal.download();
  return out;
}

// naive<double> on the float32 inputs widened to double: the reference both paths must meet.
inline Outcome<double> reference(const Problem& pb, Estimator e, const std::vector<float>& L,
                                 const std::vector<float>& G, double grad_scale = 1.0) {
  Options opt;
  opt.threads = 1;  // the sanitizer builds do not see inside libgomp
  opt.grad_scale = grad_scale;
  return run<double>(Impl::naive, pb, e, cast<double>(L), cast<double>(G), opt);
}

inline const char* impl_label(Impl impl) { return impl == Impl::fused ? "fused" : "unfused"; }

// Loss and both gradients of one device run within `tol` of the reference (errors relative to
// the largest reference entry; the loss relative to itself).
inline void check_close(const Outcome<float>& got, const Outcome<double>& ref, double tol) {
  CHECK(rel_err(got.loss, ref.loss) <= tol);
  CHECK(rel_err(got.dlocal, ref.dlocal) <= tol);
  CHECK(rel_err(got.dglobal, ref.dglobal) <= tol);
}

}  // namespace imx::mi::cuda_test
