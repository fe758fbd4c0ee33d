// Convolutions and batch-norm through cuDNN 9's convolution and normalization APIs. Algorithms
// come from cuDNN's heuristics once per geometry and are cached with their descriptors;
// workspaces come from the caching allocator.
#include <cmath>

#include "engine/cuda/check.h"
#include "engine/cuda/cuda_backend.h"

namespace imx {

// The registered backend lives until exit; only the library handles are released (tearing
// down driver state would race the runtime's exit handlers).
CudaBackend::~CudaBackend() {
  if (dnn_) cudnnDestroy(dnn_);
  if (blas_) cublasDestroy(blas_);
}

namespace {

cudnnTensorDescriptor_t nchw(int64_t n, int64_t c, int64_t h, int64_t w) {
  cudnnTensorDescriptor_t d;
  IMX_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
  IMX_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                             static_cast<int>(n), static_cast<int>(c),
                                             static_cast<int>(h), static_cast<int>(w)));
  return d;
}

// The first algorithm of cuDNN's ranked list that succeeded.
template <class Perf>
const Perf& first_usable(const Perf* perf, int count, const char* what) {
  for (int i = 0; i < count; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) return perf[i];
  throw Error(std::string("cuda: cuDNN found no usable algorithm for ") + what);
}

}  // namespace

CudaBackend::ConvPlan& CudaBackend::conv_plan(const ConvGeometry& g) {
  const auto key = std::make_tuple(g.n, g.c_in, g.h_in, g.w_in, g.c_out, g.kh, g.kw, g.stride, g.pad);
  auto& slot = conv_plans_[key];
  if (slot) return *slot;
  auto p = std::make_unique<ConvPlan>();
  p->x = nchw(g.n, g.c_in, g.h_in, g.w_in);
  p->y = nchw(g.n, g.c_out, g.h_out, g.w_out);
  IMX_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w));
  IMX_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                             static_cast<int>(g.c_out), static_cast<int>(g.c_in),
                                             static_cast<int>(g.kh), static_cast<int>(g.kw)));
  IMX_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv));
  const int pad = static_cast<int>(g.pad), stride = static_cast<int>(g.stride);
  IMX_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv, pad, pad, stride, stride, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  // FMA math forbids TF32 conversions; default math allows them on Ampere and later.
  IMX_CUDNN_CHECK(cudnnSetConvolutionMathType(
      p->conv, options_.allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));

  constexpr int kMax = 16;
  int found = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd[kMax];
  IMX_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(dnn_, p->x, p->w, p->conv, p->y, kMax,
                                                         &found, fwd));
  const auto& f = first_usable(fwd, found, "conv2d forward");
  p->fwd = f.algo;
  p->fwd_ws = f.memory;
  cudnnConvolutionBwdDataAlgoPerf_t bd[kMax];
  IMX_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(dnn_, p->w, p->y, p->conv, p->x,
                                                              kMax, &found, bd));
  const auto& d = first_usable(bd, found, "conv2d backward data");
  p->bwd_data = d.algo;
  p->bwd_data_ws = d.memory;
  cudnnConvolutionBwdFilterAlgoPerf_t bf[kMax];
  IMX_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(dnn_, p->x, p->y, p->conv, p->w,
                                                                kMax, &found, bf));
  const auto& w = first_usable(bf, found, "conv2d backward filter");
  p->bwd_filter = w.algo;
  p->bwd_filter_ws = w.memory;
  slot = std::move(p);
  return *slot;
}

void CudaBackend::conv2d_forward(const ConvGeometry& g, const Tensor& x, const Tensor& w,
                                 Tensor& y) {
  ConvPlan& p = conv_plan(g);
  auto ws = alloc_.allocate(p.fwd_ws);
  const float one = 1, zero = 0;
  IMX_CUDNN_CHECK(cudnnConvolutionForward(dnn_, &one, p.x, x.raw(), p.w, w.raw(), p.conv, p.fwd,
                                          ws.get(), p.fwd_ws, &zero, p.y, y.raw()));
}

void CudaBackend::conv2d_backward_data(const ConvGeometry& g, const Tensor& gy, const Tensor& w,
                                       Tensor& gx) {
  ConvPlan& p = conv_plan(g);
  auto ws = alloc_.allocate(p.bwd_data_ws);
  const float one = 1, zero = 0;
  IMX_CUDNN_CHECK(cudnnConvolutionBackwardData(dnn_, &one, p.w, w.raw(), p.y, gy.raw(), p.conv,
                                               p.bwd_data, ws.get(), p.bwd_data_ws, &zero, p.x,
                                               gx.raw()));
}

void CudaBackend::conv2d_backward_filter(const ConvGeometry& g, const Tensor& x, const Tensor& gy,
                                         Tensor& gw) {
  ConvPlan& p = conv_plan(g);
  auto ws = alloc_.allocate(p.bwd_filter_ws);
  const float one = 1, zero = 0;
  IMX_CUDNN_CHECK(cudnnConvolutionBackwardFilter(dnn_, &one, p.x, x.raw(), p.y, gy.raw(), p.conv,
                                                 p.bwd_filter, ws.get(), p.bwd_filter_ws, &zero,
                                                 p.w, gw.raw()));
}

namespace {

// x as [outer, C, inner, 1] with per-channel (spatial) statistics, and the [1, C, 1, 1]
// parameter descriptor. Released when the pair goes out of scope.
struct NormDescriptors {
  cudnnTensorDescriptor_t x, param;
  explicit NormDescriptors(const NormGeometry& g)
      : x(nchw(g.outer, g.channels, g.inner, 1)), param(nchw(1, g.channels, 1, 1)) {}
  ~NormDescriptors() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(param);
  }
};

}  // namespace

void CudaBackend::batchnorm_train(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                  const Tensor& beta, double eps, double momentum,
                                  Tensor& running_mean, Tensor& running_var, Tensor& y,
                                  Tensor& saved_mean, Tensor& saved_invstd) {
  NormDescriptors d(g);
  const float one = 1, zero = 0;
  // cuDNN keeps the running variance unbiased, as PyTorch does.
  IMX_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      dnn_, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x, x.raw(), d.x, y.raw(), d.param,
      gamma.raw(), beta.raw(), momentum, running_mean.raw(), running_var.raw(),
      std::max(eps, CUDNN_BN_MIN_EPSILON), saved_mean.raw(), saved_invstd.raw()));
}

void CudaBackend::batchnorm_backward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                     const Tensor& saved_mean, const Tensor& saved_invstd,
                                     const Tensor& gy, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  NormDescriptors d(g);
  const float one = 1, zero = 0;
  // eps is only used when the saved statistics are absent; they are always passed here.
  IMX_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      dnn_, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, d.x, x.raw(), d.x, gy.raw(), d.x,
      gx.raw(), d.param, gamma.raw(), ggamma.raw(), gbeta.raw(), CUDNN_BN_MIN_EPSILON,
      saved_mean.raw(), saved_invstd.raw()));
}

}  // namespace imx
