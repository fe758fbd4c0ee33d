// Elementwise maps, broadcasting binary ops, reductions to a broadcast shape, strided copies.
#include <cmath>
#include <cstring>
#include <omp.h>

#include <type_traits>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/parallel.h"
#include "engine/cpu/strided.h"

namespace imx {

namespace {

template <class T>
T softplus_value(T x) {  // log(1 + e^x) without overflow
  return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
template <class T>
T sigmoid_value(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <class T>
T unary_value(Unary op, T x) {
  switch (op) {
    case Unary::Relu: return x > T(0) ? x : T(0);
    case Unary::Sigmoid: return sigmoid_value(x);
    case Unary::Softplus: return softplus_value(x);
    case Unary::Exp: return std::exp(x);
    case Unary::Log: return std::log(x);
    case Unary::Neg: return -x;
    case Unary::Square: return x * x;
    case Unary::Sqrt: return std::sqrt(x);
  }
  return x;
}

// d op(x)/dx expressed with x and y = op(x).
template <class T>
T unary_derivative(Unary op, T x, T y) {
  switch (op) {
    case Unary::Relu: return x > T(0) ? T(1) : T(0);
    case Unary::Sigmoid: return y * (T(1) - y);
    case Unary::Softplus: return sigmoid_value(x);
    case Unary::Exp: return y;
    case Unary::Log: return T(1) / x;
    case Unary::Neg: return T(-1);
    case Unary::Square: return T(2) * x;
    case Unary::Sqrt: return T(0.5) / y;
  }
  return T(0);
}

template <class T>
T binary_value(Binary op, T a, T b) {
  switch (op) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
  }
  return a;
}

// Calls f(std::integral_constant<Unary, op>{}) so that each op gets its own loop: a switch
// inside the element loop would keep the compiler from vectorizing it.
template <class F>
void with_unary(Unary op, F&& f) {
  switch (op) {
    case Unary::Relu: return f(std::integral_constant<Unary, Unary::Relu>{});
    case Unary::Sigmoid: return f(std::integral_constant<Unary, Unary::Sigmoid>{});
    case Unary::Softplus: return f(std::integral_constant<Unary, Unary::Softplus>{});
    case Unary::Exp: return f(std::integral_constant<Unary, Unary::Exp>{});
    case Unary::Log: return f(std::integral_constant<Unary, Unary::Log>{});
    case Unary::Neg: return f(std::integral_constant<Unary, Unary::Neg>{});
    case Unary::Square: return f(std::integral_constant<Unary, Unary::Square>{});
    case Unary::Sqrt: return f(std::integral_constant<Unary, Unary::Sqrt>{});
  }
}

template <class F>
void with_binary(Binary op, F&& f) {
  switch (op) {
    case Binary::Add: return f(std::integral_constant<Binary, Binary::Add>{});
    case Binary::Sub: return f(std::integral_constant<Binary, Binary::Sub>{});
    case Binary::Mul: return f(std::integral_constant<Binary, Binary::Mul>{});
    case Binary::Div: return f(std::integral_constant<Binary, Binary::Div>{});
  }
}

}  // namespace

void CpuBackend::unary(Unary op, const Tensor& x, Tensor& y) {
  dispatch(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    with_unary(op, [&](auto k) {
      cpu::parallel_ranges(x.numel(), 32768, [px, py](int64_t begin, int64_t end) {
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) py[i] = unary_value(decltype(k)::value, px[i]);
      });
    });
  });
}

void CpuBackend::unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& gy,
                                Tensor& gx) {
  dispatch(x.dtype(), [&]<class T>() {
    const T *px = x.data<T>(), *py = y.data<T>(), *pg = gy.data<T>();
    T* out = gx.data<T>();
    with_unary(op, [&](auto k) {
      cpu::parallel_ranges(x.numel(), 32768, [px, py, pg, out](int64_t begin, int64_t end) {
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) out[i] = pg[i] * unary_derivative(decltype(k)::value, px[i], py[i]);
      });
    });
  });
}

void CpuBackend::binary(Binary op, const Tensor& a, const Tensor& b, Tensor& out) {
  const Shape sa = cpu::broadcast_strides(a.shape(), out.shape());
  const Shape sb = cpu::broadcast_strides(b.shape(), out.shape());
  const Shape so = cpu::contiguous_strides(out.shape());
  dispatch(out.dtype(), [&]<class T>() {
    const T *pa = a.data<T>(), *pb = b.data<T>();
    T* po = out.data<T>();
    with_binary(op, [&](auto k) {
      cpu::for_each_row<3>(out.shape(), {sa.data(), sb.data(), so.data()},
                           [&](const auto& off, int64_t len, const auto& st) {
                             const T *ra = pa + off[0], *rb = pb + off[1];
                             T* ro = po + off[2];
                             if (st[0] == 1 && st[1] == 1) {  // the common, vectorizable case
                               for (int64_t i = 0; i < len; ++i) ro[i] = binary_value(k.value, ra[i], rb[i]);
                             } else {
                               for (int64_t i = 0; i < len; ++i)
                                 ro[i] = binary_value(k.value, ra[i * st[0]], rb[i * st[1]]);
                             }
                           });
    });
  });
}

void CpuBackend::affine(const Tensor& x, double scale, double shift, Tensor& out) {
  dispatch(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T s = static_cast<T>(scale), c = static_cast<T>(shift);
    const int64_t n = x.numel();
#pragma omp parallel for if (n > 32768)
    for (int64_t i = 0; i < n; ++i) po[i] = s * px[i] + c;
  });
}

void CpuBackend::sum_to(const Tensor& x, Tensor& out) {
  // Each thread sums its rows of x into a private float64 buffer shaped like out; the buffers
  // are added at the end. float64 accumulation keeps float32 sums of long axes accurate.
  const Shape so = cpu::broadcast_strides(out.shape(), x.shape());
  const Shape sx = cpu::contiguous_strides(x.shape());
  const int64_t n_out = out.numel();
  const int threads = x.numel() > 32768 ? omp_get_max_threads() : 1;
  std::vector<std::vector<double>> partial(threads, std::vector<double>(n_out, 0.0));
  dispatch(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    const Shape& shape = x.shape();
    const int64_t rank = x.dim();
    const int64_t inner = rank ? shape[rank - 1] : 1;
    const int64_t rows = inner ? x.numel() / inner : 0;
    const int64_t inner_stride = rank ? so[rank - 1] : 0;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      double* acc = partial[omp_get_thread_num()].data();
      int64_t off = 0, rest = r;
      for (int64_t d = rank - 2; d >= 0; --d) {
        off += (rest % shape[d]) * so[d];
        rest /= shape[d];
      }
      const T* row = px + r * inner;
      if (inner_stride == 0) {
        double s = 0;
        for (int64_t i = 0; i < inner; ++i) s += row[i];
        acc[off] += s;
      } else {
        for (int64_t i = 0; i < inner; ++i) acc[off + i] += row[i];
      }
    }
    T* po = out.data<T>();
    for (int64_t i = 0; i < n_out; ++i) {
      double s = 0;
      for (int t = 0; t < threads; ++t) s += partial[t][i];
      po[i] = static_cast<T>(s);
    }
  });
}

void CpuBackend::gather_strided(const Tensor& src, int64_t offset, const Shape& strides,
                                Tensor& dst) {
  const Shape sd = cpu::contiguous_strides(dst.shape());
  dispatch(dst.dtype(), [&]<class T>() {
    const T* ps = src.data<T>() + offset;
    T* pd = dst.data<T>();
    cpu::for_each_row<2>(dst.shape(), {strides.data(), sd.data()},
                         [&](const auto& off, int64_t len, const auto& st) {
                           for (int64_t i = 0; i < len; ++i) pd[off[1] + i] = ps[off[0] + i * st[0]];
                         });
  });
}

void CpuBackend::scatter_add_strided(const Tensor& src, int64_t offset, const Shape& strides,
                                     Tensor& dst) {
  // Callers pass strides that never map two source elements to one destination (permutes,
  // slices, concatenation), so rows can be written in parallel without conflicts.
  const Shape ss = cpu::contiguous_strides(src.shape());
  dispatch(dst.dtype(), [&]<class T>() {
    const T* ps = src.data<T>();
    T* pd = dst.data<T>() + offset;
    cpu::for_each_row<2>(src.shape(), {ss.data(), strides.data()},
                         [&](const auto& off, int64_t len, const auto& st) {
                           for (int64_t i = 0; i < len; ++i) pd[off[1] + i * st[1]] += ps[off[0] + i];
                         });
  });
}

}  // namespace imx
