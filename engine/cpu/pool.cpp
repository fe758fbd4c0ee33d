// Max-pooling over k×k windows (stride, zero-size padding that never wins).
#include <limits>

#include "engine/cpu/cpu_backend.h"

namespace imx {

namespace {

// Flat index (within the plane) of the first maximum of output (oy, ox)'s window.
template <class T>
int64_t window_argmax(const PoolGeometry& g, const T* plane, int64_t oy, int64_t ox) {
  int64_t best = -1;
  T best_v = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < g.k; ++i) {
    const int64_t iy = oy * g.stride - g.pad + i;
    if (iy < 0 || iy >= g.h_in) continue;
    for (int64_t j = 0; j < g.k; ++j) {
      const int64_t ix = ox * g.stride - g.pad + j;
      if (ix < 0 || ix >= g.w_in) continue;
      const T v = plane[iy * g.w_in + ix];
      if (best < 0 || v > best_v) {
        best = iy * g.w_in + ix;
        best_v = v;
      }
    }
  }
  return best;
}

}  // namespace

void CpuBackend::maxpool2d_forward(const PoolGeometry& g, const Tensor& x, Tensor& y) {
  dispatch(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < g.n * g.c; ++p) {
      const T* plane = px + p * g.h_in * g.w_in;
      for (int64_t oy = 0; oy < g.h_out; ++oy)
        for (int64_t ox = 0; ox < g.w_out; ++ox)
          py[(p * g.h_out + oy) * g.w_out + ox] = plane[window_argmax(g, plane, oy, ox)];
    }
  });
}

void CpuBackend::maxpool2d_backward(const PoolGeometry& g, const Tensor& x, const Tensor& gy,
                                    Tensor& gx) {
  dispatch(x.dtype(), [&]<class T>() {
    const T *px = x.data<T>(), *pg = gy.data<T>();
    T* out = gx.data<T>();
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < g.n * g.c; ++p) {
      const T* plane = px + p * g.h_in * g.w_in;
      T* gplane = out + p * g.h_in * g.w_in;
      std::fill_n(gplane, g.h_in * g.w_in, T(0));
      for (int64_t oy = 0; oy < g.h_out; ++oy)
        for (int64_t ox = 0; ox < g.w_out; ++ox)
          gplane[window_argmax(g, plane, oy, ox)] += pg[(p * g.h_out + oy) * g.w_out + ox];
    }
  });
}

}  // namespace imx
