// Convolutions and batch-norm through cuDNN 9's convolution and normalization APIs. Algorithms
// come from cuDNN's heuristics once per geometry and are cached with their descriptors: one
// convolution descriptor per direction, carrying the math type its algorithm was chosen with,
// and the workspace cuDNN reports for that algorithm and descriptor (the heuristics' memory
// figure is an estimate for the candidate, not the requirement). Workspaces come from the
// caching allocator.
#include <cmath>

#include "engine/cuda/call_args.h"
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

}  // namespace

cudnnConvolutionDescriptor_t CudaBackend::conv_descriptor(const ConvGeometry& g) const {
  cudnnConvolutionDescriptor_t conv;
  IMX_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
  const int pad = static_cast<int>(g.pad), stride = static_cast<int>(g.stride);
  IMX_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, pad, pad, stride, stride, 1, 1,
                                                  CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  // The heuristics rank algorithms for the math the descriptor allows: FMA forbids TF32
  // conversions; default math allows them on Ampere and later.
  IMX_CUDNN_CHECK(cudnnSetConvolutionMathType(
      conv, options_.allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  return conv;
}

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
  p->fwd_conv = conv_descriptor(g);
  p->bwd_data_conv = conv_descriptor(g);
  p->bwd_filter_conv = conv_descriptor(g);

  constexpr int kMax = 16;
  const bool tf32 = options_.allow_tf32;
  int found = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd[kMax];
  IMX_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(dnn_, p->x, p->w, p->fwd_conv, p->y, kMax,
                                                         &found, fwd));
  const auto f = cuda_detail::choose_algorithm(fwd, found, tf32, "conv2d forward");
  p->fwd = fwd[f.index].algo;
  IMX_CUDNN_CHECK(cudnnSetConvolutionMathType(p->fwd_conv, f.math));
  IMX_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(dnn_, p->x, p->w, p->fwd_conv, p->y, p->fwd,
                                                          &p->fwd_ws));

  cudnnConvolutionBwdDataAlgoPerf_t bd[kMax];
  IMX_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(dnn_, p->w, p->y, p->bwd_data_conv, p->x,
                                                              kMax, &found, bd));
  const auto d = cuda_detail::choose_algorithm(bd, found, tf32, "conv2d backward data");
  p->bwd_data = bd[d.index].algo;
  IMX_CUDNN_CHECK(cudnnSetConvolutionMathType(p->bwd_data_conv, d.math));
  IMX_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(dnn_, p->w, p->y, p->bwd_data_conv, p->x,
                                                               p->bwd_data, &p->bwd_data_ws));

  cudnnConvolutionBwdFilterAlgoPerf_t bf[kMax];
  IMX_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(dnn_, p->x, p->y, p->bwd_filter_conv, p->w,
                                                                kMax, &found, bf));
  const auto w = cuda_detail::choose_algorithm(bf, found, tf32, "conv2d backward filter");
  p->bwd_filter = bf[w.index].algo;
  IMX_CUDNN_CHECK(cudnnSetConvolutionMathType(p->bwd_filter_conv, w.math));
  IMX_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(dnn_, p->x, p->y, p->bwd_filter_conv, p->w,
                                                                 p->bwd_filter, &p->bwd_filter_ws));
  slot = std::move(p);
  return *slot;
}

void CudaBackend::conv2d_forward(const ConvGeometry& g, const Tensor& x, const Tensor& w,
                                 Tensor& y) {
  ConvPlan& p = conv_plan(g);
  auto ws = alloc_.allocate(p.fwd_ws);
  const float one = 1, zero = 0;
  IMX_CUDNN_CHECK(cudnnConvolutionForward(dnn_, &one, p.x, x.raw(), p.w, w.raw(), p.fwd_conv, p.fwd,
                                          ws.get(), p.fwd_ws, &zero, p.y, y.raw()));
  op_done(__func__);
}

void CudaBackend::conv2d_backward_data(const ConvGeometry& g, const Tensor& gy, const Tensor& w,
                                       Tensor& gx) {
  ConvPlan& p = conv_plan(g);
  auto ws = alloc_.allocate(p.bwd_data_ws);
  const float one = 1, zero = 0;
  IMX_CUDNN_CHECK(cudnnConvolutionBackwardData(dnn_, &one, p.w, w.raw(), p.y, gy.raw(), p.bwd_data_conv,
                                               p.bwd_data, ws.get(), p.bwd_data_ws, &zero, p.x,
                                               gx.raw()));
  op_done(__func__);
}

void CudaBackend::conv2d_backward_filter(const ConvGeometry& g, const Tensor& x, const Tensor& gy,
                                         Tensor& gw) {
  ConvPlan& p = conv_plan(g);
  auto ws = alloc_.allocate(p.bwd_filter_ws);
  const float one = 1, zero = 0;
  IMX_CUDNN_CHECK(cudnnConvolutionBackwardFilter(dnn_, &one, p.x, x.raw(), p.y, gy.raw(), p.bwd_filter_conv,
                                                 p.bwd_filter, ws.get(), p.bwd_filter_ws, &zero,
                                                 p.w, gw.raw()));
  op_done(__func__);
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
                                  Tensor& saved_mean, Tensor& saved_invstd, bool relu) {
  NormDescriptors d(g);
  const float one = 1, zero = 0;
  // cuDNN keeps the running variance unbiased, as PyTorch does.
  IMX_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      dnn_, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x, x.raw(), d.x, y.raw(), d.param,
      gamma.raw(), beta.raw(), momentum, running_mean.raw(), running_var.raw(),
      cuda_detail::batchnorm_epsilon(eps), saved_mean.raw(), saved_invstd.raw()));
  op_done(__func__);
  // cuDNN's fused activation needs NHWC; here the ReLU is the elementwise kernel, in place.
  if (relu) unary(Unary::Relu, y, y);
}

void CudaBackend::batchnorm_backward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                     const Tensor& saved_mean, const Tensor& saved_invstd,
                                     double eps, const Tensor& relu_output, const Tensor& gy, Tensor& gx,
                                     Tensor& ggamma, Tensor& gbeta) {
  Tensor masked;  // gy where the fused ReLU passed, 0 where it cut
  if (relu_output.defined()) {
    masked = Tensor::empty(gy.shape(), gy.dtype(), gy.device());
    unary_backward(Unary::Relu, relu_output, relu_output, gy, masked);
  }
  const Tensor& g_in = relu_output.defined() ? masked : gy;
  NormDescriptors d(g);
  const float one = 1, zero = 0;
  // cuDNN requires the forward's epsilon here, even with the saved statistics passed.
  IMX_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      dnn_, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, d.x, x.raw(), d.x, g_in.raw(), d.x,
      gx.raw(), d.param, gamma.raw(), ggamma.raw(), gbeta.raw(), cuda_detail::batchnorm_epsilon(eps),
      saved_mean.raw(), saved_invstd.raw()));
  op_done(__func__);
}

}  // namespace imx
