// The device layer: allocation and every primitive kernel the ops need. Ops (engine/ops/) own
// shape checks and gradient rules; a backend only computes. The CPU backend is the reference
// for every primitive and a usable fallback; the CUDA backend implements the same interface.
// All tensors handed to a backend are contiguous, on its device, and of matching dtypes.
#pragma once
#include <cstdint>
#include <memory>

#include "engine/kernel_types.h"
#include "engine/memory_stats.h"
#include "engine/tensor.h"

namespace imx {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  virtual std::shared_ptr<void> allocate(size_t bytes) = 0;
  // The allocator's statistics (zeros where a backend keeps none), the start of a new
  // measurement (peak := in use, counters := 0), and the return of cached blocks to the system.
  virtual MemoryStats memory_stats() const { return {}; }
  virtual void reset_peak_memory() {}
  virtual void empty_cache() {}
  // Waits until all work queued on the device has finished (for timing and host reads).
  virtual void synchronize() {}
  virtual void fill(Tensor& out, double value) = 0;
  // Copies between any two devices; dtypes may differ only when both are on the CPU.
  virtual void copy(const Tensor& src, Tensor& dst) = 0;

  // C = alpha * op(A) op(B) + beta * C for 2-d A, B, C; op transposes when asked.
  virtual void gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b,
                    double beta, Tensor& c) = 0;

  virtual void unary(Unary op, const Tensor& x, Tensor& y) = 0;
  // gx = gy * d(op)/dx, given x and y = op(x).
  virtual void unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& gy,
                              Tensor& gx) = 0;
  // out = a op b with NumPy broadcasting (out has the broadcast shape).
  virtual void binary(Binary op, const Tensor& a, const Tensor& b, Tensor& out) = 0;
  // out = scale * x + shift (elementwise).
  virtual void affine(const Tensor& x, double scale, double shift, Tensor& out) = 0;
  // Sums x over the axes where out's shape (right-aligned, same rank after padding) is 1.
  virtual void sum_to(const Tensor& x, Tensor& out) = 0;
  // Copies a strided view of src into contiguous dst: dst[idx] = src[offset + sum idx_i*stride_i].
  virtual void gather_strided(const Tensor& src, int64_t offset, const Shape& strides,
                              Tensor& dst) = 0;
  // The reverse: dst[offset + sum idx_i*stride_i] += src[idx] (dst pre-filled by the caller).
  virtual void scatter_add_strided(const Tensor& src, int64_t offset, const Shape& strides,
                                   Tensor& dst) = 0;

  virtual void conv2d_forward(const ConvGeometry& g, const Tensor& x, const Tensor& w,
                              Tensor& y) = 0;
  virtual void conv2d_backward_data(const ConvGeometry& g, const Tensor& gy, const Tensor& w,
                                    Tensor& gx) = 0;
  virtual void conv2d_backward_filter(const ConvGeometry& g, const Tensor& x, const Tensor& gy,
                                      Tensor& gw) = 0;

  // Padding never wins a window. The backward recomputes each window's first maximum from x,
  // so no index tensor is kept between the passes.
  virtual void maxpool2d_forward(const PoolGeometry& g, const Tensor& x, Tensor& y) = 0;
  virtual void maxpool2d_backward(const PoolGeometry& g, const Tensor& x, const Tensor& gy,
                                  Tensor& gx) = 0;

  // Training mode: normalizes with batch statistics, stores mean and inverse std per channel,
  // and updates running statistics (unbiased variance) with the given momentum. relu: y is
  // max(0, BN(x)), the ReLU that follows every batch norm of the DIM models, in the same pass.
  virtual void batchnorm_train(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                               const Tensor& beta, double eps, double momentum,
                               Tensor& running_mean, Tensor& running_var, Tensor& y,
                               Tensor& saved_mean, Tensor& saved_invstd, bool relu) = 0;
  // eps is the forward's (cuDNN needs the same value in both directions). relu_output: the
  // forward's y when it ran with relu (gy is then masked where y is 0), else undefined.
  virtual void batchnorm_backward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                  const Tensor& saved_mean, const Tensor& saved_invstd,
                                  double eps, const Tensor& relu_output, const Tensor& gy, Tensor& gx,
                                  Tensor& ggamma, Tensor& gbeta) = 0;

  // Layer-norm over the channel axis at each position: x viewed as [outer, C, inner],
  // statistics over C for each (outer, inner).
  virtual void layernorm_forward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                 const Tensor& beta, double eps, Tensor& y, Tensor& saved_mean,
                                 Tensor& saved_invstd) = 0;
  virtual void layernorm_backward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                  const Tensor& saved_mean, const Tensor& saved_invstd,
                                  const Tensor& gy, Tensor& gx, Tensor& ggamma,
                                  Tensor& gbeta) = 0;

  // Row-wise over the last axis of a 2-d tensor.
  virtual void log_softmax_forward(const Tensor& x, Tensor& y) = 0;
  virtual void log_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) = 0;
  // loss (0-d, on logp's device) = -mean_i logp[i, label_i]; labels are int32 class indices
  // held in a CPU vector. Written where the loss lives: the host reads nothing (on CUDA a read
  // would synchronize with the stream every training step).
  virtual void nll_forward(const Tensor& logp, const std::vector<int32_t>& labels, Tensor& loss) = 0;
  // glogp = 0 except glogp[i, label_i] = -upstream / rows, with upstream the 0-d gradient of the
  // loss, read on its device (no host round trip for the scale either).
  virtual void nll_backward(const std::vector<int32_t>& labels, const Tensor& upstream, Tensor& glogp) = 0;

  // mask = (uniform(seed, offset + i) >= p) / (1 - p), from the Philox stream.
  virtual void dropout_mask(uint64_t seed, uint64_t offset, double p, Tensor& mask) = 0;
  // uniform [lo, hi) values from the Philox stream (for initializers and prior samples).
  virtual void uniform(uint64_t seed, uint64_t offset, double lo, double hi, Tensor& out) = 0;

  // One Adam step in place (bias-corrected; step counts from 1).
  virtual void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                         double beta1, double beta2, double eps, double weight_decay,
                         int64_t step) = 0;
  // SGD with momentum in place (PyTorch's form: buf = momentum*buf + grad; p -= lr*buf).
  virtual void sgd_step(Tensor& param, const Tensor& grad, Tensor& buf, double lr,
                        double momentum, double weight_decay, bool first_step) = 0;
};

Backend& backend(Device d);
Backend& cpu_backend();

// The CUDA backend library registers a factory when it is linked in; the backend is built on
// first use. The factory returns nullptr and sets *why when no usable device is present.
using CudaBackendFactory = Backend* (*)(std::string* why);
void register_cuda_backend(CudaBackendFactory factory);
bool cuda_backend_available();
// Why Device::CUDA cannot be used here (empty when it can).
std::string cuda_unavailable_reason();

}  // namespace imx
