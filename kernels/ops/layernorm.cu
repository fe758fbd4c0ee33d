// Layer-norm over the channel axis of x viewed as [outer, C, inner]: statistics over C at each
// of the outer*inner positions. The C values of a position lie `inner` apart, so:
//  * inner >= 32: one thread per position; a warp reads 32 neighbouring positions at once.
//  * inner <  32 (e.g. [N, C] with inner = 1): one warp per position, lanes stride over C.
// Both variants are the same kernel body templated on the unit (common.cuh). Statistics are
// accumulated in float32 with two passes (mean, then centred squares), not E[x^2] - mean^2.
// The per-channel parameter gradients are sums over all positions: the segmented reduction.
#include "kernels/ops/common.cuh"
#include "kernels/ops/launchers.h"
#include "kernels/ops/segment_reduce.cuh"

namespace imx::IMX_KNS {

namespace {

// The C values of position `pos` = o * inner + i: base[c * stride].
struct Channels {
  int64_t base, stride;
  IMX_HD int64_t at(int64_t c) const { return base + c * stride; }
};
IMX_HD Channels channels_of(const NormGeometry& g, int64_t pos) {
  const int64_t o = pos / g.inner, i = pos % g.inner;
  return Channels{o * g.channels * g.inner + i, g.inner};
}

template <class Unit>
IMX_KERNEL void layernorm_forward_kernel(NormGeometry g, const float* x, const float* gamma,
                                         const float* beta, float eps, float* y, float* mean,
                                         float* invstd) {
  const int64_t C = g.channels;
  for_each_item<Unit>(g.outer * g.inner, [&](int64_t pos) {
    const Channels ch = channels_of(g, pos);
    float sum = 0.0f;
    for (int64_t c = Unit::rank(); c < C; c += Unit::size()) sum += x[ch.at(c)];
    const float mu = Unit::sum(sum) / static_cast<float>(C);
    float squares = 0.0f;
    for (int64_t c = Unit::rank(); c < C; c += Unit::size()) {
      const float d = x[ch.at(c)] - mu;
      squares += d * d;
    }
    const float inv = 1.0f / sqrtf(Unit::sum(squares) / static_cast<float>(C) + eps);
    for (int64_t c = Unit::rank(); c < C; c += Unit::size())
      y[ch.at(c)] = (x[ch.at(c)] - mu) * inv * gamma[c] + beta[c];
    if (Unit::leader()) {
      mean[pos] = mu;
      invstd[pos] = inv;
    }
  });
}

// gx = invstd * (gh - mean_c(gh) - xhat * mean_c(gh * xhat)), gh = gy * gamma.
template <class Unit>
IMX_KERNEL void layernorm_backward_kernel(NormGeometry g, const float* x, const float* gamma,
                                          const float* mean, const float* invstd, const float* gy,
                                          float* gx) {
  const int64_t C = g.channels;
  for_each_item<Unit>(g.outer * g.inner, [&](int64_t pos) {
    const Channels ch = channels_of(g, pos);
    const float mu = mean[pos], inv = invstd[pos];
    Pair sums;  // a: sum gh, b: sum gh * xhat
    for (int64_t c = Unit::rank(); c < C; c += Unit::size()) {
      const float gh = gy[ch.at(c)] * gamma[c];
      sums += Pair{gh, gh * (x[ch.at(c)] - mu) * inv};
    }
    sums = Unit::sum(sums);
    const float a = sums.a / static_cast<float>(C), b = sums.b / static_cast<float>(C);
    for (int64_t c = Unit::rank(); c < C; c += Unit::size()) {
      const float xhat = (x[ch.at(c)] - mu) * inv;
      gx[ch.at(c)] = inv * (gy[ch.at(c)] * gamma[c] - a - xhat * b);
    }
  });
}

// Segment c of the parameter gradients: over positions r, Pair{gy * xhat, gy}.
struct ParamGradValues {
  NormGeometry g;
  const float *x, *gy, *mean, *invstd;
  int64_t c;
  IMX_DEVICE Pair operator()(int64_t r) const {
    const int64_t k = (r / g.inner * g.channels + c) * g.inner + r % g.inner;
    return Pair{gy[k] * (x[k] - mean[r]) * invstd[r], gy[k]};
  }
};
struct ParamGradSource {
  NormGeometry g;
  const float *x, *gy, *mean, *invstd;
  IMX_DEVICE ParamGradValues segment(int64_t c) const { return {g, x, gy, mean, invstd, c}; }
};
struct StoreParamGrads {
  float *ggamma, *gbeta;
  IMX_DEVICE void operator()(int64_t c, Pair sums) const {
    ggamma[c] = sums.a;
    gbeta[c] = sums.b;
  }
};

}  // namespace

void layernorm_forward(const NormGeometry& g, const float* x, const float* gamma,
                       const float* beta, float eps, float* y, float* mean, float* invstd,
                       cudaStream_t stream) {
  IMX_LAUNCH_BY_UNIT(layernorm_forward_kernel, g.inner >= kWarp, ThreadUnit, WarpUnit,
                     g.outer * g.inner, stream, g, x, gamma, beta, eps, y, mean, invstd);
}

std::size_t layernorm_backward_workspace_bytes(const NormGeometry& g) {
  return segment::workspace_bytes<Pair>(g.channels, g.outer * g.inner, g.inner == 1);
}

void layernorm_backward(const NormGeometry& g, const float* x, const float* gamma,
                        const float* mean, const float* invstd, const float* gy, float* gx,
                        float* ggamma, float* gbeta, void* workspace, std::size_t workspace_bytes,
                        cudaStream_t stream) {
  // Before any launch: a bad workspace must not leave gx written and the sums missing.
  segment::check_workspace<Pair>(g.channels, g.outer * g.inner, g.inner == 1, workspace, workspace_bytes,
                                 "layernorm_backward");
  IMX_LAUNCH_BY_UNIT(layernorm_backward_kernel, g.inner >= kWarp, ThreadUnit, WarpUnit,
                     g.outer * g.inner, stream, g, x, gamma, mean, invstd, gy, gx);
  // With inner == 1, channel c + 1 of a position sits next to channel c: columns pay off.
  segment::reduce<Pair>(ParamGradSource{g, x, gy, mean, invstd}, StoreParamGrads{ggamma, gbeta},
                        g.channels, g.outer * g.inner, g.inner == 1, workspace, workspace_bytes,
                        "layernorm_backward", stream);
}

}  // namespace imx::IMX_KNS
