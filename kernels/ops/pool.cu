// Max-pooling over k x k windows with stride and padding that never wins. Forward: one thread
// per output. Backward: one thread per *input* element, which gathers the gradients of the
// windows whose first maximum it is; no atomics, and the windows are visited in the CPU
// backend's (oy, ox) order, so the sums match it exactly.
#include "kernels/ops/common.cuh"
#include "kernels/ops/launchers.h"

namespace imx::IMX_KNS {

namespace {

// Flat index within the plane of the first maximum of window (oy, ox); -1 for an all-padding
// window (the geometry never produces one, but the kernels stay safe).
IMX_DEVICE int64_t window_argmax(const PoolGeometry& g, const float* plane, int64_t oy, int64_t ox) {
  int64_t best = -1;
  float best_v = 0.0f;
  const int64_t y0 = oy * g.stride - g.pad, x0 = ox * g.stride - g.pad;
  for (int64_t iy = max64(y0, 0); iy < min64(y0 + g.k, g.h_in); ++iy)
    for (int64_t ix = max64(x0, 0); ix < min64(x0 + g.k, g.w_in); ++ix) {
      const float v = plane[iy * g.w_in + ix];
      if (best < 0 || v > best_v) {
        best = iy * g.w_in + ix;
        best_v = v;
      }
    }
  return best;
}

IMX_KERNEL void maxpool_forward_kernel(PoolGeometry g, const float* x, float* y) {
  const int64_t plane_out = g.h_out * g.w_out;
  for_each_item<ThreadUnit>(g.n * g.c * plane_out, [&](int64_t i) {
    const int64_t p = i / plane_out, rest = i % plane_out;
    const float* plane = x + p * g.h_in * g.w_in;
    const int64_t best = window_argmax(g, plane, rest / g.w_out, rest % g.w_out);
    y[i] = best >= 0 ? plane[best] : 0.0f;
  });
}

// Windows containing input row iy: oy with oy*stride - pad <= iy < oy*stride - pad + k.
struct WindowRange {
  int64_t first, last;  // inclusive; empty when first > last
};
IMX_DEVICE WindowRange windows_covering(int64_t i, int64_t k, int64_t stride, int64_t pad, int64_t n_out) {
  const int64_t hi = i + pad;                                  // oy*stride <= hi
  const int64_t lo = hi - k + 1;                               // oy*stride >= lo
  const int64_t first = lo <= 0 ? 0 : ceil_div(lo, stride);
  return WindowRange{first, min64(hi / stride, n_out - 1)};
}

IMX_KERNEL void maxpool_backward_kernel(PoolGeometry g, const float* x, const float* gy, float* gx) {
  const int64_t plane_in = g.h_in * g.w_in;
  for_each_item<ThreadUnit>(g.n * g.c * plane_in, [&](int64_t i) {
    const int64_t p = i / plane_in, at = i % plane_in;
    const int64_t iy = at / g.w_in, ix = at % g.w_in;
    const float* plane = x + p * plane_in;
    const float* gplane = gy + p * g.h_out * g.w_out;
    const WindowRange rows = windows_covering(iy, g.k, g.stride, g.pad, g.h_out);
    const WindowRange cols = windows_covering(ix, g.k, g.stride, g.pad, g.w_out);
    float sum = 0.0f;
    for (int64_t oy = rows.first; oy <= rows.last; ++oy)
      for (int64_t ox = cols.first; ox <= cols.last; ++ox)
        if (window_argmax(g, plane, oy, ox) == at) sum += gplane[oy * g.w_out + ox];
    gx[i] = sum;
  });
}

}  // namespace

void maxpool2d_forward(const PoolGeometry& g, const float* x, float* y, cudaStream_t stream) {
  const int64_t n = g.n * g.c * g.h_out * g.w_out;
  if (n <= 0) return;
  IMX_LAUNCH(maxpool_forward_kernel, blocks_for(n, kBlock), kBlock, 0, stream)(g, x, y);
}

void maxpool2d_backward(const PoolGeometry& g, const float* x, const float* gy, float* gx,
                        cudaStream_t stream) {
  const int64_t n = g.n * g.c * g.h_in * g.w_in;
  if (n <= 0) return;
  IMX_LAUNCH(maxpool_backward_kernel, blocks_for(n, kBlock), kBlock, 0, stream)(g, x, gy, gx);
}

}  // namespace imx::IMX_KNS
