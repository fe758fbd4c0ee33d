// Batch-norm (statistics per channel over [outer, inner]) and channel layer-norm (statistics
// over channels at each (outer, inner) position). Both normalize a group of elements and apply a
// per-channel affine map, so both backward passes use the same group formula:
//   gx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = gy * gamma[channel].
// Statistics are accumulated in float64. Batch-norm optionally applies the ReLU that follows it
// in the same pass (Relu = true); its backward then masks gy by the saved output. That is one
// pass over the tensor fewer in each direction than batch-norm and ReLU as two kernels.
#include <algorithm>
#include <cmath>
#include <omp.h>

#include <vector>

#include "engine/cpu/cpu_backend.h"

namespace imx {

namespace {

// Index of element (o, c, i) in the [outer, C, inner] view.
inline int64_t at(const NormGeometry& g, int64_t o, int64_t c, int64_t i) {
  return (o * g.channels + c) * g.inner + i;
}

// Batch-norm on maps (inner > 1) works on blocks of channels, one block per thread at a time,
// visiting (o, c, i) with the block's channels inside the outer loop, so that each image
// contributes a few contiguous planes per block. Each channel sums its elements in (o, i) order.
constexpr int64_t kChannelBlock = 16;

inline int64_t channel_blocks(const NormGeometry& g) { return (g.channels + kChannelBlock - 1) / kChannelBlock; }

// f(j, base) for every plane [base, base + inner) of channels [c0, c0 + w), j = channel - c0.
// The bodies loop over the plane themselves, under `omp simd` with their sums as reductions:
// a per-element callback left the fused-ReLU loops scalar.
template <class F>
inline void for_planes(const NormGeometry& g, int64_t c0, int64_t w, F&& f) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t j = 0; j < w; ++j) f(j, at(g, o, c0 + j, 0));
}


// Rows [outer, C] (inner == 1, e.g. the critic's [N*M*M, units]): walking a channel block down
// the rows touches one cache line per row at a stride of C elements, which the prefetchers do
// not follow and which changes page every few rows. Instead each thread streams a contiguous
// range of rows and sums into its own per-channel partials; the partials are added in thread
// order (fixed at a fixed thread count, so results repeat bit for bit).
struct RowPartials {
  int threads;
  int64_t channels;
  std::vector<double> sums;  // [threads][2][channels]
  RowPartials(int t, int64_t c) : threads(t), channels(c), sums(size_t(t) * 2 * c, 0.0) {}
  double* part(int t, int which) { return sums.data() + (size_t(t) * 2 + which) * channels; }
  // Adds every thread's partials into thread 0's, in thread order.
  void merge() {
    for (int t = 1; t < threads; ++t)
      for (int w = 0; w < 2; ++w) {
        double* dst = part(0, w);
        const double* src = part(t, w);
        for (int64_t c = 0; c < channels; ++c) dst[c] += src[c];
      }
  }
};

// Calls f(t, r0, r1) for thread t's rows [r0, r1) of `rows`, on every thread.
template <class F>
void for_row_ranges(int threads, int64_t rows, F&& f) {
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    f(t, rows * t / threads, rows * (t + 1) / threads);
  }
}

int row_threads(const NormGeometry& g) {
  return g.outer * g.channels > 32768 ? int(std::min<int64_t>(omp_get_max_threads(), g.outer)) : 1;
}

// The value batch-norm stores: the normalized value, through the fused ReLU when there is one.
// The select is on the T value: on a double one GCC leaves the loop scalar.
template <bool Relu, class T>
inline T activated(T v) {
  if constexpr (Relu) return v > T(0) ? v : T(0);
  return v;
}
// The gradient that reaches the normalization: gy times the ReLU's derivative (1 where the
// output is positive, else 0), as the unfused ReLU gradient computes it. A product, not a
// select: GCC leaves a select in these loops scalar ("control flow in loop", 5x slower).
template <bool Relu, class T>
inline T passed(const T* gy, const T* y, int64_t k) {
  if constexpr (Relu) return gy[k] * (y[k] > T(0) ? T(1) : T(0));
  return gy[k];
}

template <bool Relu, class T>
void rows_batchnorm_train(const NormGeometry& g, const T* px, const T* pg, const T* pb, double eps,
                          double momentum, T* rm, T* rv, T* py, T* sm, T* si) {
  const int64_t C = g.channels, m = g.outer;
  const int threads = row_threads(g);
  RowPartials acc(threads, C);
  for_row_ranges(threads, m, [&](int t, int64_t r0, int64_t r1) {
    double* sum = acc.part(t, 0);
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = px + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) sum[c] += row[c];
    }
  });
  acc.merge();
  std::vector<double> mean(C), invstd(C);
  for (int64_t c = 0; c < C; ++c) mean[c] = acc.part(0, 0)[c] / m;
  for_row_ranges(threads, m, [&](int t, int64_t r0, int64_t r1) {
    double* sq = acc.part(t, 1);
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = px + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) {
        const double d = row[c] - mean[c];
        sq[c] += d * d;
      }
    }
  });
  acc.merge();
  const double* sq = acc.part(0, 1);
  for (int64_t c = 0; c < C; ++c) {
    invstd[c] = 1.0 / std::sqrt(sq[c] / m + eps);
    sm[c] = static_cast<T>(mean[c]);
    si[c] = static_cast<T>(invstd[c]);
    const double unbiased = m > 1 ? sq[c] / (m - 1) : sq[c] / m;
    rm[c] = static_cast<T>((1 - momentum) * rm[c] + momentum * mean[c]);
    rv[c] = static_cast<T>((1 - momentum) * rv[c] + momentum * unbiased);
  }
  std::vector<T> tm(C), ts(C);  // the map in T (statistics in double), as the backward's
  for (int64_t c = 0; c < C; ++c) tm[c] = T(mean[c]), ts[c] = T(invstd[c] * pg[c]);
  for_row_ranges(threads, m, [&](int, int64_t r0, int64_t r1) {
    const T *pm = tm.data(), *ps = ts.data();
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = px + r * C;
      T* out = py + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) out[c] = activated<Relu, T>((row[c] - pm[c]) * ps[c] + pb[c]);
    }
  });
}

template <bool Relu, class T>
void rows_batchnorm_backward(const NormGeometry& g, const T* px, const T* pg, const T* sm, const T* si,
                             const T* py, const T* pgy, T* pgx, T* pgg, T* pgb) {
  const int64_t C = g.channels, m = g.outer;
  const int threads = row_threads(g);
  std::vector<double> mean(C), invstd(C);
  for (int64_t c = 0; c < C; ++c) mean[c] = sm[c], invstd[c] = si[c];
  RowPartials acc(threads, C);
  for_row_ranges(threads, m, [&](int t, int64_t r0, int64_t r1) {
    double *sum_gy = acc.part(t, 0), *sum_gy_xhat = acc.part(t, 1);
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = px + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) {
        const T gyc = passed<Relu>(pgy, py, r * C + c);
        sum_gy[c] += gyc;
        sum_gy_xhat[c] += gyc * (row[c] - mean[c]) * invstd[c];
      }
    }
  });
  acc.merge();
  std::vector<double> a(C), b(C);
  for (int64_t c = 0; c < C; ++c) {
    const double sgy = acc.part(0, 0)[c], sgx = acc.part(0, 1)[c];
    pgg[c] = static_cast<T>(sgx);
    pgb[c] = static_cast<T>(sgy);
    a[c] = pg[c] * sgy / m;
    b[c] = pg[c] * sgx / m;
  }
  // The per-element map in T, as layer-norm's (the sums above stay in double).
  std::vector<T> tm(C), ti(C), ta(C), tb(C);
  for (int64_t c = 0; c < C; ++c) tm[c] = T(mean[c]), ti[c] = T(invstd[c]), ta[c] = T(a[c]), tb[c] = T(b[c]);
  for_row_ranges(threads, m, [&](int, int64_t r0, int64_t r1) {
    const T *pm = tm.data(), *pi = ti.data(), *pa = ta.data(), *pb = tb.data();
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = px + r * C;
      T* out = pgx + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) {
        const T xhat = (row[c] - pm[c]) * pi[c];
        out[c] = pi[c] * (pg[c] * passed<Relu>(pgy, py, r * C + c) - pa[c] - xhat * pb[c]);
      }
    }
  });
}

template <bool Relu>
void batchnorm_train_as(const NormGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                        double eps, double momentum, Tensor& running_mean, Tensor& running_var, Tensor& y,
                        Tensor& saved_mean, Tensor& saved_invstd) {
  const int64_t m = g.outer * g.inner;
  dispatch(x.dtype(), [&]<class T>() {
    const T *px = x.data<T>(), *pg = gamma.data<T>(), *pb = beta.data<T>();
    T *py = y.data<T>(), *rm = running_mean.data<T>(), *rv = running_var.data<T>();
    T *sm = saved_mean.data<T>(), *si = saved_invstd.data<T>();
    if (g.inner == 1) return rows_batchnorm_train<Relu>(g, px, pg, pb, eps, momentum, rm, rv, py, sm, si);
#pragma omp parallel for schedule(static)
    for (int64_t cb = 0; cb < channel_blocks(g); ++cb) {
      const int64_t c0 = cb * kChannelBlock, w = std::min(kChannelBlock, g.channels - c0);
      double sum[kChannelBlock] = {}, sq[kChannelBlock] = {}, mean[kChannelBlock], invstd[kChannelBlock];
      const int64_t n = g.inner;
      for_planes(g, c0, w, [&](int64_t j, int64_t base) {
        const T* xp = px + base;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; ++i) s += xp[i];
        sum[j] += s;
      });
      for (int64_t j = 0; j < w; ++j) mean[j] = sum[j] / m;
      for_planes(g, c0, w, [&](int64_t j, int64_t base) {
        const T* xp = px + base;
        const double mu = mean[j];
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; ++i) s += (xp[i] - mu) * (xp[i] - mu);
        sq[j] += s;
      });
      for (int64_t j = 0; j < w; ++j) invstd[j] = 1.0 / std::sqrt(sq[j] / m + eps);
      for_planes(g, c0, w, [&](int64_t j, int64_t base) {
        const T* xp = px + base;
        T* yp = py + base;
        // The map in T (statistics in double), as the backward's.
        const T mu = T(mean[j]), scale = T(invstd[j] * pg[c0 + j]), shift = pb[c0 + j];
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) yp[i] = activated<Relu, T>((xp[i] - mu) * scale + shift);
      });
      for (int64_t j = 0; j < w; ++j) {
        const int64_t c = c0 + j;
        sm[c] = static_cast<T>(mean[j]);
        si[c] = static_cast<T>(invstd[j]);
        const double unbiased = m > 1 ? sq[j] / (m - 1) : sq[j] / m;
        rm[c] = static_cast<T>((1 - momentum) * rm[c] + momentum * mean[j]);
        rv[c] = static_cast<T>((1 - momentum) * rv[c] + momentum * unbiased);
      }
    }
  });
}

template <bool Relu>
void batchnorm_backward_as(const NormGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& saved_mean,
                           const Tensor& saved_invstd, const Tensor& relu_output, const Tensor& gy, Tensor& gx,
                           Tensor& ggamma, Tensor& gbeta) {
  const int64_t m = g.outer * g.inner;
  dispatch(x.dtype(), [&]<class T>() {
    const T *px = x.data<T>(), *pg = gamma.data<T>(), *pgy = gy.data<T>();
    const T *sm = saved_mean.data<T>(), *si = saved_invstd.data<T>();
    const T* py = Relu ? relu_output.data<T>() : nullptr;
    T *pgx = gx.data<T>(), *pgg = ggamma.data<T>(), *pgb = gbeta.data<T>();
    if (g.inner == 1) return rows_batchnorm_backward<Relu>(g, px, pg, sm, si, py, pgy, pgx, pgg, pgb);
#pragma omp parallel for schedule(static)
    for (int64_t cb = 0; cb < channel_blocks(g); ++cb) {
      const int64_t c0 = cb * kChannelBlock, w = std::min(kChannelBlock, g.channels - c0);
      double sum_gy[kChannelBlock] = {}, sum_gy_xhat[kChannelBlock] = {};
      double a[kChannelBlock], b[kChannelBlock];
      const int64_t n = g.inner;
      for_planes(g, c0, w, [&](int64_t j, int64_t base) {
        const T* xp = px + base;
        const double mean = sm[c0 + j], invstd = si[c0 + j];
        double s = 0, sx = 0;
#pragma omp simd reduction(+ : s, sx)
        for (int64_t i = 0; i < n; ++i) {
          const double gyk = passed<Relu>(pgy, py, base + i);
          s += gyk;
          sx += gyk * (xp[i] - mean) * invstd;
        }
        sum_gy[j] += s;
        sum_gy_xhat[j] += sx;
      });
      for (int64_t j = 0; j < w; ++j) {
        const int64_t c = c0 + j;
        pgg[c] = static_cast<T>(sum_gy_xhat[j]);
        pgb[c] = static_cast<T>(sum_gy[j]);
        a[j] = pg[c] * sum_gy[j] / m;
        b[j] = pg[c] * sum_gy_xhat[j] / m;
      }
      for_planes(g, c0, w, [&](int64_t j, int64_t base) {
        const T* xp = px + base;
        T* gxp = pgx + base;
        const T mean = sm[c0 + j], invstd = si[c0 + j], gamma_c = pg[c0 + j], aj = T(a[j]), bj = T(b[j]);
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) {
          const T xhat = (xp[i] - mean) * invstd;
          gxp[i] = invstd * (gamma_c * passed<Relu>(pgy, py, base + i) - aj - xhat * bj);
        }
      });
    }
  });
}

// Layer-norm over rows [outer, C] (inner == 1, the critic's [N*M*M, units]): each row's
// statistics are sums over a contiguous row, vectorized (`omp simd` reductions, so the order
// is the vector lanes', fixed); the parameter gradients sum into per-thread partials added in
// thread order, as batch-norm's rows do.
template <class T>
void rows_layernorm_forward(const NormGeometry& g, const T* px, const T* pg, const T* pb, double eps, T* py, T* sm,
                            T* si) {
  const int64_t C = g.channels;
  for_row_ranges(row_threads(g), g.outer, [&](int, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = px + r * C;
      double sum = 0, sq = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t c = 0; c < C; ++c) sum += row[c];
      const double mean = sum / C;
#pragma omp simd reduction(+ : sq)
      for (int64_t c = 0; c < C; ++c) sq += (row[c] - mean) * (row[c] - mean);
      const double invstd = 1.0 / std::sqrt(sq / C + eps);
      T* out = py + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) out[c] = static_cast<T>((row[c] - mean) * invstd * pg[c] + pb[c]);
      sm[r] = static_cast<T>(mean);
      si[r] = static_cast<T>(invstd);
    }
  });
}

template <class T>
void rows_layernorm_backward(const NormGeometry& g, const T* px, const T* pg, const T* sm, const T* si, const T* pgy,
                             T* pgx, T* pgg, T* pgb) {
  const int64_t C = g.channels;
  const int threads = row_threads(g);
  RowPartials acc(threads, C);  // part 0: d gamma, part 1: d beta
  for_row_ranges(threads, g.outer, [&](int t, int64_t r0, int64_t r1) {
    double *gg = acc.part(t, 0), *gb = acc.part(t, 1);
    for (int64_t r = r0; r < r1; ++r) {
      const T *row = px + r * C, *gy = pgy + r * C;
      const double mean = sm[r], invstd = si[r];
      double sum_gh = 0, sum_gh_xhat = 0;
#pragma omp simd reduction(+ : sum_gh, sum_gh_xhat)
      for (int64_t c = 0; c < C; ++c) {
        const double xhat = (row[c] - mean) * invstd, gh = double(gy[c]) * pg[c];
        sum_gh += gh;
        sum_gh_xhat += gh * xhat;
      }
      const double a = sum_gh / C, b = sum_gh_xhat / C;
      T* out = pgx + r * C;
      // The per-element map in T (the sums stay in double): at [4096, 512] in float32 it ran in
      // 1.40 ms against 1.66 with every element widened to double.
      const T tm = T(mean), ti = T(invstd), ta = T(a), tb = T(b);
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) {
        const T xhat = (row[c] - tm) * ti;
        out[c] = ti * (gy[c] * pg[c] - ta - xhat * tb);
        gg[c] += double(gy[c] * xhat);
        gb[c] += gy[c];
      }
    }
  });
  acc.merge();
  for (int64_t c = 0; c < C; ++c) {
    pgg[c] = static_cast<T>(acc.part(0, 0)[c]);
    pgb[c] = static_cast<T>(acc.part(0, 1)[c]);
  }
}

}  // namespace

void CpuBackend::batchnorm_train(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                 const Tensor& beta, double eps, double momentum,
                                 Tensor& running_mean, Tensor& running_var, Tensor& y,
                                 Tensor& saved_mean, Tensor& saved_invstd, bool relu) {
  (relu ? batchnorm_train_as<true> : batchnorm_train_as<false>)(g, x, gamma, beta, eps, momentum, running_mean,
                                                                running_var, y, saved_mean, saved_invstd);
}

void CpuBackend::batchnorm_backward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                    const Tensor& saved_mean, const Tensor& saved_invstd,
                                    double /*eps: the saved statistics already hold it*/,
                                    const Tensor& relu_output, const Tensor& gy, Tensor& gx, Tensor& ggamma,
                                    Tensor& gbeta) {
  (relu_output.defined() ? batchnorm_backward_as<true> : batchnorm_backward_as<false>)(
      g, x, gamma, saved_mean, saved_invstd, relu_output, gy, gx, ggamma, gbeta);
}

void CpuBackend::layernorm_forward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                   const Tensor& beta, double eps, Tensor& y, Tensor& saved_mean,
                                   Tensor& saved_invstd) {
  dispatch(x.dtype(), [&]<class T>() {
    const T *px = x.data<T>(), *pg = gamma.data<T>(), *pb = beta.data<T>();
    T *py = y.data<T>(), *sm = saved_mean.data<T>(), *si = saved_invstd.data<T>();
    if (g.inner == 1) return rows_layernorm_forward(g, px, pg, pb, eps, py, sm, si);
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t o = 0; o < g.outer; ++o)
      for (int64_t i = 0; i < g.inner; ++i) {
        double sum = 0, sq = 0;
        for (int64_t c = 0; c < g.channels; ++c) sum += px[at(g, o, c, i)];
        const double mean = sum / g.channels;
        for (int64_t c = 0; c < g.channels; ++c) {
          const double d = px[at(g, o, c, i)] - mean;
          sq += d * d;
        }
        const double invstd = 1.0 / std::sqrt(sq / g.channels + eps);
        for (int64_t c = 0; c < g.channels; ++c) {
          const int64_t k = at(g, o, c, i);
          py[k] = static_cast<T>((px[k] - mean) * invstd * pg[c] + pb[c]);
        }
        sm[o * g.inner + i] = static_cast<T>(mean);
        si[o * g.inner + i] = static_cast<T>(invstd);
      }
  });
}

void CpuBackend::layernorm_backward(const NormGeometry& g, const Tensor& x, const Tensor& gamma,
                                    const Tensor& saved_mean, const Tensor& saved_invstd,
                                    const Tensor& gy, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  dispatch(x.dtype(), [&]<class T>() {
    const T *px = x.data<T>(), *pg = gamma.data<T>(), *pgy = gy.data<T>();
    const T *sm = saved_mean.data<T>(), *si = saved_invstd.data<T>();
    T* pgx = gx.data<T>();
    if (g.inner == 1)
      return rows_layernorm_backward(g, px, pg, sm, si, pgy, pgx, ggamma.data<T>(), gbeta.data<T>());
    const int threads = omp_get_max_threads();
    // Per-thread float64 partial sums of the per-channel parameter gradients.
    std::vector<std::vector<double>> gg(threads, std::vector<double>(g.channels, 0.0));
    std::vector<std::vector<double>> gb(threads, std::vector<double>(g.channels, 0.0));
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t o = 0; o < g.outer; ++o)
      for (int64_t i = 0; i < g.inner; ++i) {
        const int t = omp_get_thread_num();
        const double mean = sm[o * g.inner + i], invstd = si[o * g.inner + i];
        double sum_gh = 0, sum_gh_xhat = 0;
        for (int64_t c = 0; c < g.channels; ++c) {
          const int64_t k = at(g, o, c, i);
          const double xhat = (px[k] - mean) * invstd, gh = pgy[k] * pg[c];
          sum_gh += gh;
          sum_gh_xhat += gh * xhat;
          gg[t][c] += pgy[k] * xhat;
          gb[t][c] += pgy[k];
        }
        const double a = sum_gh / g.channels, b = sum_gh_xhat / g.channels;
        for (int64_t c = 0; c < g.channels; ++c) {
          const int64_t k = at(g, o, c, i);
          const double xhat = (px[k] - mean) * invstd;
          pgx[k] = static_cast<T>(invstd * (pgy[k] * pg[c] - a - xhat * b));
        }
      }
    T *pgg = ggamma.data<T>(), *pgb = gbeta.data<T>();
    for (int64_t c = 0; c < g.channels; ++c) {
      double s1 = 0, s2 = 0;
      for (int t = 0; t < threads; ++t) s1 += gg[t][c], s2 += gb[t][c];
      pgg[c] = static_cast<T>(s1);
      pgb[c] = static_cast<T>(s2);
    }
  });
}

}  // namespace imx
