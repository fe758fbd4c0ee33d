// The contract between the CUDA backend (engine/cuda/) and the hand-written kernels of
// kernels/ops/*.cu. Every launcher takes device pointers (float32 only: the CUDA backend trains
// in float32; float64 checks run on the CPU backend), enqueues its kernels on `stream` and
// returns without synchronizing. Semantics match the CPU backend's primitive of the same name
// (engine/backend.h), which is the reference the tests compare against.
//
// The same declarations name the real CUDA build (imx::cuda, nvcc) and the SIMT-emulated
// build (imx::emu, g++), see kernels/simt/simt.h.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/kernel_types.h"
#include "kernels/simt/simt.h"

namespace imx::IMX_KNS {

void fill(float* out, int64_t n, float value, cudaStream_t stream);

// y = op(x); gx = gy * op'(x) given x and y = op(x).
void unary_forward(Unary op, const float* x, float* y, int64_t n, cudaStream_t stream);
void unary_backward(Unary op, const float* x, const float* y, const float* gy, float* gx,
                    int64_t n, cudaStream_t stream);

// out = a op b over out_shape; a_strides/b_strides are 0 along broadcast axes (rank = out's).
void binary(Binary op, const float* a, const Dims& a_strides, const float* b,
            const Dims& b_strides, float* out, const Dims& out_shape, cudaStream_t stream);

// y = scale * x + shift
void affine(const float* x, float* y, int64_t n, float scale, float shift, cudaStream_t stream);

// out[o] = sum of x over the axes where out_strides is 0 (x_shape's rank; out contiguous
// otherwise). Accumulates in float32 with a tree order, deterministic for a given shape.
// Long sums over few outputs are split in two passes whose partials go to `workspace`: at
// least sum_to_workspace_bytes(...) device bytes, 16-byte aligned (null when that is 0),
// untouched until the launch has run (std::invalid_argument when too small).
std::size_t sum_to_workspace_bytes(const Dims& x_shape, const Dims& out_strides, int64_t out_numel);
void sum_to(const float* x, const Dims& x_shape, const Dims& out_strides, float* out,
            int64_t out_numel, void* workspace, std::size_t workspace_bytes, cudaStream_t stream);

// dst[idx] = src[offset + sum idx_i * src_strides_i] over dst_shape (dst contiguous).
void gather_strided(const float* src, int64_t offset, const Dims& src_strides, float* dst,
                    const Dims& dst_shape, cudaStream_t stream);
// dst[offset + sum idx_i * dst_strides_i] += src[idx] over src_shape (src contiguous); the
// strides never map two source elements to one destination.
void scatter_add_strided(const float* src, const Dims& src_shape, float* dst, int64_t offset,
                         const Dims& dst_strides, cudaStream_t stream);

// Max-pooling; padding never wins; the backward recomputes each window's first maximum.
void maxpool2d_forward(const PoolGeometry& g, const float* x, float* y, cudaStream_t stream);
void maxpool2d_backward(const PoolGeometry& g, const float* x, const float* gy, float* gx,
                        cudaStream_t stream);

// Layer-norm over channels of x viewed as [outer, C, inner]; mean/invstd are [outer*inner].
void layernorm_forward(const NormGeometry& g, const float* x, const float* gamma,
                       const float* beta, float eps, float* y, float* mean, float* invstd,
                       cudaStream_t stream);
// ggamma and gbeta are overwritten (not accumulated); their sums use a workspace as sum_to's.
std::size_t layernorm_backward_workspace_bytes(const NormGeometry& g);
void layernorm_backward(const NormGeometry& g, const float* x, const float* gamma,
                        const float* mean, const float* invstd, const float* gy, float* gx,
                        float* ggamma, float* gbeta, void* workspace, std::size_t workspace_bytes,
                        cudaStream_t stream);

// Row-wise over [rows, cols].
void log_softmax_forward(const float* x, float* y, int64_t rows, int64_t cols,
                         cudaStream_t stream);
void log_softmax_backward(const float* y, const float* gy, float* gx, int64_t rows,
                          int64_t cols, cudaStream_t stream);
// *loss (one device float) = -mean_r logp[r, labels[r]]; labels are device int32.
void nll_forward(const float* logp, const int32_t* labels, int64_t rows, int64_t cols,
                 float* loss, cudaStream_t stream);
// glogp = 0 except glogp[r, labels[r]] = -*upstream / rows; upstream is one device float (the
// loss's gradient), read by the kernel so that the host never waits for it.
void nll_backward(const int32_t* labels, int64_t rows, int64_t cols, const float* upstream,
                  float* glogp, cudaStream_t stream);

// The Philox stream of engine/philox.h: element i uses position offset + i.
void dropout_mask(uint64_t seed, uint64_t offset, float p, float* mask, int64_t n,
                  cudaStream_t stream);
// Bounds in double, mapped in double like the CPU backend, so the two streams agree bit for
// bit for any bounds (float bounds would differ whenever lo or hi is not a float value).
void uniform(uint64_t seed, uint64_t offset, double lo, double hi, float* out, int64_t n,
             cudaStream_t stream);

// Fused optimizer updates, in place. bias_correction1/2 = 1 - beta^step.
void adam_step(float* param, const float* grad, float* m, float* v, int64_t n, float lr,
               float beta1, float beta2, float eps, float weight_decay, float bias_correction1,
               float bias_correction2, cudaStream_t stream);
void sgd_step(float* param, const float* grad, float* buf, int64_t n, float lr, float momentum,
              float weight_decay, bool first_step, cudaStream_t stream);

}  // namespace imx::IMX_KNS
