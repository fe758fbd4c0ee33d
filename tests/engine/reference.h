// Naive float64 loop references for the engine ops' forward passes: written independently of
// the backend (no im2col, no strides helpers), as plainly as possible.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace ref {

using V = std::vector<double>;

inline V matmul(const V& a, const V& b, int m, int k, int n) {
  V c(m * n, 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      for (int p = 0; p < k; ++p) c[i * n + j] += a[i * k + p] * b[p * n + j];
  return c;
}

inline V conv2d(const V& x, const V& w, const V& b, int n, int ci, int h, int wd, int co, int k,
                int s, int p) {
  const int ho = (h + 2 * p - k) / s + 1, wo = (wd + 2 * p - k) / s + 1;
  V y(n * co * ho * wo, 0.0);
  for (int in = 0; in < n; ++in)
    for (int o = 0; o < co; ++o)
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) {
          double acc = b.empty() ? 0.0 : b[o];
          for (int c = 0; c < ci; ++c)
            for (int i = 0; i < k; ++i)
              for (int j = 0; j < k; ++j) {
                const int iy = oy * s - p + i, ix = ox * s - p + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                acc += x[((in * ci + c) * h + iy) * wd + ix] * w[((o * ci + c) * k + i) * k + j];
              }
          y[((in * co + o) * ho + oy) * wo + ox] = acc;
        }
  return y;
}

inline V maxpool(const V& x, int n, int c, int h, int w, int k, int s, int p) {
  const int ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
  V y(n * c * ho * wo, -INFINITY);
  for (int q = 0; q < n * c; ++q)
    for (int oy = 0; oy < ho; ++oy)
      for (int ox = 0; ox < wo; ++ox)
        for (int i = 0; i < k; ++i)
          for (int j = 0; j < k; ++j) {
            const int iy = oy * s - p + i, ix = ox * s - p + j;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
              y[(q * ho + oy) * wo + ox] = std::max(y[(q * ho + oy) * wo + ox], x[(q * h + iy) * w + ix]);
          }
  return y;
}

// Batch-norm in training mode over [n, c, hw]; also returns the biased batch variance.
inline V batchnorm(const V& x, const V& g, const V& b, int n, int c, int hw, double eps, V* var_out) {
  V y(x.size());
  if (var_out) var_out->assign(c, 0.0);
  for (int ch = 0; ch < c; ++ch) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < hw; ++j) mean += x[(i * c + ch) * hw + j];
    mean /= n * hw;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < hw; ++j) var += std::pow(x[(i * c + ch) * hw + j] - mean, 2);
    var /= n * hw;
    if (var_out) (*var_out)[ch] = var;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < hw; ++j) {
        const int idx = (i * c + ch) * hw + j;
        y[idx] = (x[idx] - mean) / std::sqrt(var + eps) * g[ch] + b[ch];
      }
  }
  return y;
}

inline V layernorm_channels(const V& x, const V& g, const V& b, int n, int c, int hw, double eps) {
  V y(x.size());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < hw; ++j) {
      double mean = 0, var = 0;
      for (int ch = 0; ch < c; ++ch) mean += x[(i * c + ch) * hw + j];
      mean /= c;
      for (int ch = 0; ch < c; ++ch) var += std::pow(x[(i * c + ch) * hw + j] - mean, 2);
      var /= c;
      for (int ch = 0; ch < c; ++ch) {
        const int idx = (i * c + ch) * hw + j;
        y[idx] = (x[idx] - mean) / std::sqrt(var + eps) * g[ch] + b[ch];
      }
    }
  return y;
}

inline V log_softmax(const V& x, int rows, int cols) {
  V y(x.size());
  for (int r = 0; r < rows; ++r) {
    double s = 0;
    for (int c = 0; c < cols; ++c) s += std::exp(x[r * cols + c]);
    for (int c = 0; c < cols; ++c) y[r * cols + c] = x[r * cols + c] - std::log(s);
  }
  return y;
}

}  // namespace ref
