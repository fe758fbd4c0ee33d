// The CPU backend: the reference implementation of every primitive (float32 and float64),
// oneDNN/OpenBLAS for products (blas/gemm.h), OpenMP across cores. Split by kernel family into cpu/*.cpp.
#pragma once
#include "engine/backend.h"

namespace imx {

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  Device device() const override { return Device::CPU; }
  std::shared_ptr<void> allocate(size_t bytes) override;  // cpu/caching_allocator.h
  MemoryStats memory_stats() const override;
  void reset_peak_memory() override;
  void empty_cache() override;
  void fill(Tensor& out, double value) override;
  void copy(const Tensor& src, Tensor& dst) override;
  void gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b,
            double beta, Tensor& c) override;
  void unary(Unary op, const Tensor& x, Tensor& y) override;
  void unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& gy,
                      Tensor& gx) override;
  void binary(Binary op, const Tensor& a, const Tensor& b, Tensor& out) override;
  void affine(const Tensor& x, double scale, double shift, Tensor& out) override;
  void sum_to(const Tensor& x, Tensor& out) override;
  void gather_strided(const Tensor& src, int64_t offset, const Shape& strides,
                      Tensor& dst) override;
  void scatter_add_strided(const Tensor& src, int64_t offset, const Shape& strides,
                           Tensor& dst) override;
  void conv2d_forward(const ConvGeometry& g, const Tensor& x, const Tensor& w,
                      Tensor& y) override;
  void conv2d_backward_data(const ConvGeometry& g, const Tensor& gy, const Tensor& w,
                            Tensor& gx) override;
  void conv2d_backward_filter(const ConvGeometry& g, const Tensor& x, const Tensor& gy,
                              Tensor& gw) override;
  void maxpool2d_forward(const PoolGeometry& g, const Tensor& x, Tensor& y) override;
  void maxpool2d_backward(const PoolGeometry& g, const Tensor& x, const Tensor& gy,
                          Tensor& gx) override;
  void batchnorm_train(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                       const Tensor& beta, double eps, double momentum, Tensor& running_mean,
                       Tensor& running_var, Tensor& y, Tensor& saved_mean, Tensor& saved_invstd,
                       bool relu) override;
  void batchnorm_backward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                          const Tensor& saved_mean, const Tensor& saved_invstd, double eps,
                          const Tensor& relu_output, const Tensor& gy, Tensor& gx, Tensor& ggamma,
                          Tensor& gbeta) override;
  void layernorm_forward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                         const Tensor& beta, double eps, Tensor& y, Tensor& saved_mean,
                         Tensor& saved_invstd) override;
  void layernorm_backward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                          const Tensor& saved_mean, const Tensor& saved_invstd, const Tensor& gy,
                          Tensor& gx, Tensor& ggamma, Tensor& gbeta) override;
  void log_softmax_forward(const Tensor& x, Tensor& y) override;
  void log_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) override;
  void nll_forward(const Tensor& logp, const std::vector<int32_t>& labels, Tensor& loss) override;
  void nll_backward(const std::vector<int32_t>& labels, const Tensor& upstream, Tensor& glogp) override;
  void dropout_mask(uint64_t seed, uint64_t offset, double p, Tensor& mask) override;
  void uniform(uint64_t seed, uint64_t offset, double lo, double hi, Tensor& out) override;
  void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr, double beta1,
                 double beta2, double eps, double weight_decay, int64_t step) override;
  void sgd_step(Tensor& param, const Tensor& grad, Tensor& buf, double lr, double momentum,
                double weight_decay, bool first_step) override;
};

// Row-major C[m,n] = alpha*op(A)*op(B) + beta*C on raw pointers (leading dims = row lengths).
template <class T>
void cpu_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
              const T* b, T beta, T* c);

}  // namespace imx
