// The CUDA backend (float32): cuBLAS products, cuDNN convolutions and batch-norm, and the
// hand-written kernels of kernels/ops for everything else. One stream on device 0; memory from
// the caching allocator; host transfers staged through a pinned buffer.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <map>
#include <mutex>
#include <tuple>

#include "engine/backend.h"
#include "engine/cuda/caching_allocator.h"

namespace imx {

struct CudaOptions {
  bool allow_tf32 = false;   // TF32 tensor cores in cuBLAS and cuDNN (off: exact float32 math)
  bool sync_each_op = false; // synchronize and check after every op, naming the op that faulted
  bool caching = true;       // the caching allocator; off: cudaMalloc/cudaFree of exact sizes
  int device = 0;            // which GPU (data-parallel ranks on one machine take one each)
};
// Read once, when the backend is built, from the environment:
//   IMX_CUDA_TF32=1                  TF32 on;
//   IMX_CUDA_SYNC=1                  debug mode: every op synchronizes the stream and checks it,
//                                    so an asynchronous fault is reported by the op that caused it;
//   IMX_CUDA_ALLOCATOR=passthrough   no caching, exact sizes (for compute-sanitizer memcheck: a
//                                    cached, rounded-up block hides overruns and use after free).
//   IMX_CUDA_DEVICE=N                the GPU to use (default 0; dim-train sets it per MPI rank).
// Any other value of IMX_CUDA_ALLOCATOR than `caching` or `passthrough` is an error naming it.
CudaOptions cuda_options_from_env();

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(CudaOptions options);
  ~CudaBackend() override;
  Device device() const override { return Device::CUDA; }
  cudaStream_t stream() const { return stream_; }
  CachingAllocator& allocator() { return alloc_; }
  const CudaOptions& options() const { return options_; }
  // After each op's launches or library calls: throws naming `op` if a launch failed and, in
  // the IMX_CUDA_SYNC=1 debug mode, synchronizes and throws naming `op` if the device faulted.
  void op_done(const char* op);

  std::shared_ptr<void> allocate(size_t bytes) override;
  void synchronize() override;
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

 private:
  // Host <-> device through the pinned staging buffer (grown on demand).
  void upload(const void* host, void* device, size_t bytes);
  void grow_staging(size_t bytes);  // under staging_mu_
  // Host memory that is already page-locked is copied asynchronously, straight from the
  // tensor; its storage is kept alive until an event recorded after the copy has completed.
  bool upload_pinned(const Tensor& src, void* device);
  void release_finished_uploads();
  void download(const void* device, void* host, size_t bytes);
  // Labels as a device buffer, uploaded without waiting for the stream (see the .cpp).
  std::shared_ptr<void> device_labels(const std::vector<int32_t>& labels);
  // A page-locked host block of at least `bytes` from the pool; under staging_mu_.
  std::shared_ptr<void> pinned_block(size_t bytes);

  // cuDNN descriptors and chosen algorithms, cached per convolution geometry. One convolution
  // descriptor per direction: each carries the math type of its own chosen algorithm.
  struct ConvPlan {
    cudnnTensorDescriptor_t x = nullptr, y = nullptr;
    cudnnFilterDescriptor_t w = nullptr;
    cudnnConvolutionDescriptor_t fwd_conv = nullptr, bwd_data_conv = nullptr, bwd_filter_conv = nullptr;
    cudnnConvolutionFwdAlgo_t fwd{};
    cudnnConvolutionBwdDataAlgo_t bwd_data{};
    cudnnConvolutionBwdFilterAlgo_t bwd_filter{};
    size_t fwd_ws = 0, bwd_data_ws = 0, bwd_filter_ws = 0;
  };
  ConvPlan& conv_plan(const ConvGeometry& g);
  cudnnConvolutionDescriptor_t conv_descriptor(const ConvGeometry& g) const;
  // A device workspace for one launch (null for 0 bytes), from the caching allocator.
  std::shared_ptr<void> workspace(size_t bytes);

  CudaOptions options_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  cudnnHandle_t dnn_ = nullptr;
  CachingAllocator alloc_{options_.caching};
  std::mutex staging_mu_;
  struct PinnedBlock {
    void* data = nullptr;
    size_t bytes = 0;
  };
  std::vector<PinnedBlock> pinned_free_;  // declared before inflight_: outlives its deleters
  std::vector<std::pair<cudaEvent_t, std::shared_ptr<void>>> inflight_;
  void* staging_ = nullptr;
  size_t staging_bytes_ = 0;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                      int64_t>,
           std::unique_ptr<ConvPlan>>
      conv_plans_;
};

}  // namespace imx
