// The CUDA backend's set-up, memory, transfers and the primitives served by the hand-written
// kernels (kernels/ops). Products and cuDNN paths live in cuda_blas.cpp and cuda_dnn.cpp.
#include "engine/cuda/cuda_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "engine/cpu/strided.h"
#include "engine/cuda/check.h"
#include "kernels/ops/launchers.h"

namespace imx {

namespace {

void require_f32(const char* op, const Tensor& t) {
  check(t.dtype() == DType::F32, std::string("cuda ") + op,
        "the CUDA backend computes in float32; got " + t.describe() +
            " (run float64 checks on the CPU backend)");
}

Dims to_dims(const char* op, const Shape& s) {
  check(static_cast<int>(s.size()) <= Dims::kMaxRank, std::string("cuda ") + op,
        "rank " + std::to_string(s.size()) + " exceeds the kernels' limit of " +
            std::to_string(Dims::kMaxRank));
  Dims d;
  d.rank = static_cast<int>(s.size());
  for (size_t i = 0; i < s.size(); ++i) d.d[i] = s[i];
  return d;
}

float* f(const Tensor& t) { return static_cast<float*>(t.raw()); }

}  // namespace

CudaOptions cuda_options_from_env() {
  CudaOptions o;
  const auto flag = [](const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  };
  o.allow_tf32 = flag("IMX_CUDA_TF32");
  o.sync_each_op = flag("IMX_CUDA_SYNC");
  if (const char* v = std::getenv("IMX_CUDA_DEVICE"); v != nullptr && *v != '\0') {
    char* end = nullptr;
    const long d = std::strtol(v, &end, 10);
    if (*end != '\0' || d < 0) throw Error(std::string("cuda: IMX_CUDA_DEVICE is '") + v + "'; expected a device number");
    o.device = static_cast<int>(d);
  }
  if (const char* v = std::getenv("IMX_CUDA_ALLOCATOR"); v != nullptr && *v != '\0') {
    if (std::strcmp(v, "passthrough") == 0) o.caching = false;
    else if (std::strcmp(v, "caching") != 0)
      throw Error(std::string("cuda: IMX_CUDA_ALLOCATOR is '") + v + "'; expected 'caching' or 'passthrough'");
  }
  return o;
}

void CudaBackend::op_done(const char* op) {
  const cudaError_t launched = cudaGetLastError();
  if (launched != cudaSuccess)
    throw Error(std::string("cuda: op ") + op + " failed to launch: " + cudaGetErrorString(launched));
  if (!options_.sync_each_op) return;
  const cudaError_t ran = cudaStreamSynchronize(stream_);
  if (ran != cudaSuccess)
    throw Error(std::string("cuda: op ") + op + " faulted on the device: " + cudaGetErrorString(ran) +
                " (IMX_CUDA_SYNC=1: the stream is synchronized and checked after every op)");
}

std::shared_ptr<void> CudaBackend::workspace(size_t bytes) {
  return bytes == 0 ? std::shared_ptr<void>() : alloc_.allocate(bytes);
}

CudaBackend::CudaBackend(CudaOptions options) : options_(options) {
  IMX_CUDA_CHECK(cudaSetDevice(options_.device));
  IMX_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  IMX_CUBLAS_CHECK(cublasCreate(&blas_));
  IMX_CUBLAS_CHECK(cublasSetStream(blas_, stream_));
  IMX_CUBLAS_CHECK(cublasSetMathMode(
      blas_, options_.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
  IMX_CUDNN_CHECK(cudnnCreate(&dnn_));
  IMX_CUDNN_CHECK(cudnnSetStream(dnn_, stream_));
}

std::shared_ptr<void> CudaBackend::allocate(size_t bytes) { return alloc_.allocate(bytes); }

void CudaBackend::synchronize() { IMX_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

void CudaBackend::grow_staging(size_t bytes) {
  if (bytes <= staging_bytes_) return;
  // Nothing may still read the old buffer: callers synchronize before reusing it.
  IMX_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (staging_) IMX_CUDA_CHECK(cudaFreeHost(staging_));
  staging_ = nullptr;
  staging_bytes_ = 0;
  IMX_CUDA_CHECK(cudaMallocHost(&staging_, bytes));
  staging_bytes_ = bytes;
}

void CudaBackend::upload(const void* host, void* device, size_t bytes) {
  std::lock_guard lock(staging_mu_);
  grow_staging(bytes);
  // The previous transfer through the buffer must be done before it is overwritten.
  IMX_CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::memcpy(staging_, host, bytes);
  IMX_CUDA_CHECK(cudaMemcpyAsync(device, staging_, bytes, cudaMemcpyHostToDevice, stream_));
}

void CudaBackend::release_finished_uploads() {
  auto done = [](auto& entry) {
    if (cudaEventQuery(entry.first) != cudaSuccess) return false;
    cudaEventDestroy(entry.first);
    return true;
  };
  std::erase_if(inflight_, done);
  (void)cudaGetLastError();  // cudaErrorNotReady from the query is not an error
}

bool CudaBackend::upload_pinned(const Tensor& src, void* device) {
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, src.raw()) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  if (attr.type != cudaMemoryTypeHost) return false;  // pageable: take the staging path
  std::lock_guard lock(staging_mu_);
  release_finished_uploads();
  IMX_CUDA_CHECK(cudaMemcpyAsync(device, src.raw(), src.nbytes(), cudaMemcpyHostToDevice, stream_));
  cudaEvent_t done;
  IMX_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  IMX_CUDA_CHECK(cudaEventRecord(done, stream_));
  inflight_.emplace_back(done, src.impl().storage->data);
  return true;
}

void CudaBackend::download(const void* device, void* host, size_t bytes) {
  std::lock_guard lock(staging_mu_);
  grow_staging(bytes);
  IMX_CUDA_CHECK(cudaMemcpyAsync(staging_, device, bytes, cudaMemcpyDeviceToHost, stream_));
  IMX_CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::memcpy(host, staging_, bytes);
}

void CudaBackend::fill(Tensor& out, double value) {
  require_f32("fill", out);
  cuda::fill(f(out), out.numel(), static_cast<float>(value), stream_);
  op_done(__func__);
}

void CudaBackend::copy(const Tensor& src, Tensor& dst) {
  check(src.dtype() == dst.dtype() && src.numel() == dst.numel(), "cuda copy",
        src.describe() + " into " + dst.describe());
  const size_t bytes = src.nbytes();
  if (bytes == 0) return;
  if (src.device() == Device::CUDA && dst.device() == Device::CUDA)
    IMX_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), src.raw(), bytes, cudaMemcpyDeviceToDevice, stream_));
  else if (src.device() == Device::CPU) {
    if (!upload_pinned(src, dst.raw())) upload(src.raw(), dst.raw(), bytes);
  }
  else
    download(src.raw(), dst.raw(), bytes);
  op_done(__func__);
}

void CudaBackend::unary(Unary op, const Tensor& x, Tensor& y) {
  require_f32("unary", x);
  cuda::unary_forward(op, f(x), f(y), x.numel(), stream_);
  op_done(__func__);
}

void CudaBackend::unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& gy,
                                 Tensor& gx) {
  require_f32("unary_backward", x);
  cuda::unary_backward(op, f(x), f(y), f(gy), f(gx), x.numel(), stream_);
  op_done(__func__);
}

void CudaBackend::binary(Binary op, const Tensor& a, const Tensor& b, Tensor& out) {
  require_f32("binary", out);
  cuda::binary(op, f(a), to_dims("binary", cpu::broadcast_strides(a.shape(), out.shape())), f(b),
               to_dims("binary", cpu::broadcast_strides(b.shape(), out.shape())), f(out),
               to_dims("binary", out.shape()), stream_);
  op_done(__func__);
}

void CudaBackend::affine(const Tensor& x, double scale, double shift, Tensor& out) {
  require_f32("affine", x);
  cuda::affine(f(x), f(out), x.numel(), static_cast<float>(scale), static_cast<float>(shift),
               stream_);
  op_done(__func__);
}

void CudaBackend::sum_to(const Tensor& x, Tensor& out) {
  require_f32("sum_to", x);
  const Dims x_shape = to_dims("sum_to", x.shape());
  const Dims out_strides = to_dims("sum_to", cpu::broadcast_strides(out.shape(), x.shape()));
  // Stream-ordered reuse: the block returns to the cache when this function exits, and
  // later work that reuses it runs after these kernels on the same stream.
  const size_t bytes = cuda::sum_to_workspace_bytes(x_shape, out_strides, out.numel());
  const auto ws = workspace(bytes);
  cuda::sum_to(f(x), x_shape, out_strides, f(out), out.numel(), ws.get(), bytes, stream_);
  op_done(__func__);
}

void CudaBackend::gather_strided(const Tensor& src, int64_t offset, const Shape& strides,
                                 Tensor& dst) {
  require_f32("gather_strided", src);
  cuda::gather_strided(f(src), offset, to_dims("gather_strided", strides), f(dst),
                       to_dims("gather_strided", dst.shape()), stream_);
  op_done(__func__);
}

void CudaBackend::scatter_add_strided(const Tensor& src, int64_t offset, const Shape& strides,
                                      Tensor& dst) {
  require_f32("scatter_add_strided", src);
  cuda::scatter_add_strided(f(src), to_dims("scatter_add_strided", src.shape()), f(dst), offset,
                            to_dims("scatter_add_strided", strides), stream_);
  op_done(__func__);
}

void CudaBackend::maxpool2d_forward(const PoolGeometry& g, const Tensor& x, Tensor& y) {
  require_f32("maxpool2d_forward", x);
  cuda::maxpool2d_forward(g, f(x), f(y), stream_);
  op_done(__func__);
}

void CudaBackend::maxpool2d_backward(const PoolGeometry& g, const Tensor& x, const Tensor& gy,
                                     Tensor& gx) {
  require_f32("maxpool2d_backward", x);
  cuda::maxpool2d_backward(g, f(x), f(gy), f(gx), stream_);
  op_done(__func__);
}

void CudaBackend::layernorm_forward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                    const Tensor& beta, double eps, Tensor& y, Tensor& saved_mean,
                                    Tensor& saved_invstd) {
  require_f32("layernorm_forward", x);
  cuda::layernorm_forward(g, f(x), f(gamma), f(beta), static_cast<float>(eps), f(y),
                          f(saved_mean), f(saved_invstd), stream_);
  op_done(__func__);
}

void CudaBackend::layernorm_backward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                     const Tensor& saved_mean, const Tensor& saved_invstd,
                                     const Tensor& gy, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  require_f32("layernorm_backward", x);
  const size_t bytes = cuda::layernorm_backward_workspace_bytes(g);
  const auto ws = workspace(bytes);  // stream-ordered reuse, as in sum_to
  cuda::layernorm_backward(g, f(x), f(gamma), f(saved_mean), f(saved_invstd), f(gy), f(gx),
                           f(ggamma), f(gbeta), ws.get(), bytes, stream_);
  op_done(__func__);
}

void CudaBackend::log_softmax_forward(const Tensor& x, Tensor& y) {
  require_f32("log_softmax_forward", x);
  cuda::log_softmax_forward(f(x), f(y), x.size(0), x.size(1), stream_);
  op_done(__func__);
}

void CudaBackend::log_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) {
  require_f32("log_softmax_backward", y);
  cuda::log_softmax_backward(f(y), f(gy), f(gx), y.size(0), y.size(1), stream_);
  op_done(__func__);
}

// Labels go up twice a step (forward and backward). Through the shared staging buffer each
// upload would first wait for the stream (the buffer may not be overwritten while a copy still
// reads it); instead each takes a page-locked block of its own from a pool, copied from
// asynchronously, and the block returns to the pool once an event recorded after the copy has
// completed (release_finished_uploads). The host waits for nothing.
std::shared_ptr<void> CudaBackend::device_labels(const std::vector<int32_t>& labels) {
  const size_t bytes = labels.size() * sizeof(int32_t);
  auto buf = alloc_.allocate(bytes);
  std::lock_guard lock(staging_mu_);
  release_finished_uploads();
  std::shared_ptr<void> host = pinned_block(bytes);
  std::memcpy(host.get(), labels.data(), bytes);
  IMX_CUDA_CHECK(cudaMemcpyAsync(buf.get(), host.get(), bytes, cudaMemcpyHostToDevice, stream_));
  cudaEvent_t done;
  IMX_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  IMX_CUDA_CHECK(cudaEventRecord(done, stream_));
  inflight_.emplace_back(done, std::move(host));
  return buf;
}

std::shared_ptr<void> CudaBackend::pinned_block(size_t bytes) {
  // First fit among the free blocks; a new one (at least 4 KiB, so a batch size's labels reuse
  // it) only while every block is still in flight.
  auto it = std::find_if(pinned_free_.begin(), pinned_free_.end(),
                         [&](const PinnedBlock& b) { return b.bytes >= bytes; });
  PinnedBlock block;
  if (it != pinned_free_.end()) {
    block = *it;
    pinned_free_.erase(it);
  } else {
    block.bytes = std::max<size_t>(bytes, 4096);
    IMX_CUDA_CHECK(cudaMallocHost(&block.data, block.bytes));
  }
  // The deleter runs under staging_mu_ (in release_finished_uploads) or when the backend is
  // destroyed (pinned_free_ outlives inflight_), never concurrently with the pool's users.
  return std::shared_ptr<void>(block.data, [this, block](void*) { pinned_free_.push_back(block); });
}

void CudaBackend::nll_forward(const Tensor& logp, const std::vector<int32_t>& labels, Tensor& loss) {
  require_f32("nll_forward", logp);
  require_f32("nll_forward", loss);
  auto dev_labels = device_labels(labels);
  cuda::nll_forward(f(logp), static_cast<const int32_t*>(dev_labels.get()), logp.size(0),
                    logp.size(1), f(loss), stream_);
  op_done(__func__);
}

void CudaBackend::nll_backward(const std::vector<int32_t>& labels, const Tensor& upstream, Tensor& glogp) {
  require_f32("nll_backward", glogp);
  require_f32("nll_backward", upstream);
  check(upstream.device() == Device::CUDA && upstream.numel() == 1, "cuda nll_backward",
        "the upstream gradient must be one float on the device, got " + upstream.describe());
  auto dev_labels = device_labels(labels);
  cuda::nll_backward(static_cast<const int32_t*>(dev_labels.get()), glogp.size(0), glogp.size(1),
                     f(upstream), f(glogp), stream_);
  op_done(__func__);
}

void CudaBackend::dropout_mask(uint64_t seed, uint64_t offset, double p, Tensor& mask) {
  require_f32("dropout_mask", mask);
  cuda::dropout_mask(seed, offset, static_cast<float>(p), f(mask), mask.numel(), stream_);
  op_done(__func__);
}

void CudaBackend::uniform(uint64_t seed, uint64_t offset, double lo, double hi, Tensor& out) {
  require_f32("uniform", out);
  cuda::uniform(seed, offset, lo, hi, f(out), out.numel(), stream_);
  op_done(__func__);
}

void CudaBackend::adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                            double beta1, double beta2, double eps, double weight_decay,
                            int64_t step) {
  require_f32("adam_step", param);
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
  cuda::adam_step(f(param), f(grad), f(m), f(v), param.numel(), static_cast<float>(lr),
                  static_cast<float>(beta1), static_cast<float>(beta2), static_cast<float>(eps),
                  static_cast<float>(weight_decay), static_cast<float>(bc1),
                  static_cast<float>(bc2), stream_);
  op_done(__func__);
}

void CudaBackend::sgd_step(Tensor& param, const Tensor& grad, Tensor& buf, double lr,
                           double momentum, double weight_decay, bool first_step) {
  require_f32("sgd_step", param);
  cuda::sgd_step(f(param), f(grad), f(buf), param.numel(), static_cast<float>(lr),
                 static_cast<float>(momentum), static_cast<float>(weight_decay), first_step,
                 stream_);
  op_done(__func__);
}

}  // namespace imx
