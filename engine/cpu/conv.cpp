// conv2d on the CPU: float32 through the kernel conv_library.h picks per pass (oneDNN's, the
// first-layer kernel of direct_conv.h, or the im2col path here); float64, the reference, always
// as im2col + one product per chunk of images. Columns are laid out
// [C_in*kh*kw, images*H_out*W_out] so that the product has a long inner dimension even for the
// first DCGAN layer (3 input channels).
//
// Parallelism: each thread takes a fixed contiguous range of the images and runs its chunks
// alone (im2col, a single-threaded product, the layout copy or col2im), with its own scratch of
// a few MiB that stays in its cache between the steps. Threading each product inside OpenBLAS
// instead splits only the output: the filter gradient of the first layers (a [64, 48] result
// summed over 16384 columns) then ran at ~45% of the ceiling, and the im2col buffers of all
// images (tens of MiB) went through memory. The filter gradient sums one partial per thread, in
// thread order, so results repeat bit for bit at a fixed thread count.
#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "engine/cpu/caching_allocator.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/conv_library.h"
#include "engine/cpu/direct_conv.h"
#include "engine/cpu/onednn_conv.h"
#include "engine/cpu/parallel.h"

namespace imx {

namespace {

constexpr int64_t kColumnBudget = 1 << 20;  // elements of a thread's im2col buffer (4 MiB in float32)

int64_t images_per_chunk(const ConvGeometry& g) {
  const int64_t per_image = g.c_in * g.kh * g.kw * g.h_out * g.w_out;
  return std::clamp<int64_t>(kColumnBudget / std::max<int64_t>(per_image, 1), 1, g.n);
}

int conv_threads(const ConvGeometry& g) { return int(std::min<int64_t>(omp_get_max_threads(), g.n)); }

// The output columns [lo, hi) whose input column ox*stride - pad + j lies inside the image;
// outside it im2col writes zeros and col2im skips. Hoisting the bounds out of the inner loops
// leaves them branch-free.
struct ColumnRange {
  int64_t lo, hi;
};
inline ColumnRange valid_columns(const ConvGeometry& g, int64_t j) {
  const int64_t first = g.pad - j;  // smallest ox*stride that lands inside
  const int64_t lo = first <= 0 ? 0 : (first + g.stride - 1) / g.stride;
  const int64_t last = g.w_in - 1 + g.pad - j;  // largest ox*stride that lands inside
  const int64_t hi = last < 0 ? 0 : std::min(g.w_out, last / g.stride + 1);
  return {std::min(lo, hi), hi};
}

// cols[(c,i,j), (img, oy, ox)] = x[n0+img, c, oy*s - p + i, ox*s - p + j] (0 outside).
template <class T>
void im2col(const ConvGeometry& g, const T* x, int64_t n0, int64_t count, T* cols) {
  const int64_t hw = g.h_out * g.w_out, width = count * hw;
  const int64_t rows = g.c_in * g.kh * g.kw;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw;
    const ColumnRange cr = valid_columns(g, j);
    T* out = cols + r * width;
    for (int64_t img = 0; img < count; ++img) {
      const T* plane = x + ((n0 + img) * g.c_in + c) * g.h_in * g.w_in;
      for (int64_t oy = 0; oy < g.h_out; ++oy) {
        const int64_t iy = oy * g.stride - g.pad + i;
        T* dst = out + img * hw + oy * g.w_out;
        if (iy < 0 || iy >= g.h_in) {
          std::fill(dst, dst + g.w_out, T(0));
          continue;
        }
        const T* src = plane + iy * g.w_in - g.pad + j;  // src[ox * stride] is the input pixel
        std::fill(dst, dst + cr.lo, T(0));
        for (int64_t ox = cr.lo; ox < cr.hi; ++ox) dst[ox] = src[ox * g.stride];
        std::fill(dst + cr.hi, dst + g.w_out, T(0));
      }
    }
  }
}

// The adjoint of im2col: scatters column gradients back into gx (accumulating overlaps).
// Parallel over input channels, which own disjoint planes of gx.
template <class T>
void col2im(const ConvGeometry& g, const T* cols, int64_t n0, int64_t count, T* gx) {
  const int64_t hw = g.h_out * g.w_out, width = count * hw;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.c_in; ++c) {
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const T* src = cols + ((c * g.kh + i) * g.kw + j) * width;
        const ColumnRange cr = valid_columns(g, j);
        for (int64_t img = 0; img < count; ++img) {
          T* plane = gx + ((n0 + img) * g.c_in + c) * g.h_in * g.w_in;
          for (int64_t oy = 0; oy < g.h_out; ++oy) {
            const int64_t iy = oy * g.stride - g.pad + i;
            if (iy < 0 || iy >= g.h_in) continue;
            const T* s = src + img * hw + oy * g.w_out;
            T* dst = plane + iy * g.w_in - g.pad + j;  // dst[ox * stride] is the input pixel
            for (int64_t ox = cr.lo; ox < cr.hi; ++ox) dst[ox * g.stride] += s[ox];
          }
        }
      }
  }
}

// Between [C_out, images*HW] (product layout) and NCHW [images, C_out, HW].
template <class T>
void channels_to_images(const T* src, int64_t c_out, int64_t count, int64_t hw, T* dst) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t img = 0; img < count; ++img)
    for (int64_t c = 0; c < c_out; ++c)
      std::copy_n(src + c * count * hw + img * hw, hw, dst + (img * c_out + c) * hw);
}
template <class T>
void images_to_channels(const T* src, int64_t c_out, int64_t count, int64_t hw, T* dst) {
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t img = 0; img < count; ++img)
    for (int64_t c = 0; c < c_out; ++c)
      std::copy_n(src + (img * c_out + c) * hw, hw, dst + c * count * hw + img * hw);
}

// Runs body(thread, n0, count, cols, prod) over chunks of images, thread t taking the images
// [n*t/threads, n*(t+1)/threads), with the two scratch buffers of one chunk: columns
// [C_in*kh*kw, count*HW] and product-layout outputs [C_out, count*HW]. The buffers come from
// the caching allocator (no fresh pages to fault in on every call).
template <class T, class Body>
void for_each_chunk(const ConvGeometry& g, Body&& body) {
  const int threads = conv_threads(g);
  const int64_t chunk = std::min(images_per_chunk(g), (g.n + threads - 1) / threads), hw = g.h_out * g.w_out;
  const int64_t cols_elems = g.c_in * g.kh * g.kw * chunk * hw, prod_elems = g.c_out * chunk * hw;
  auto& heap = cpu::CachingAllocator::instance();
  const auto scratch = heap.allocate(sizeof(T) * threads * (cols_elems + prod_elems));
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    T* cols = static_cast<T*>(scratch.get()) + t * (cols_elems + prod_elems);
    T* prod = cols + cols_elems;
    const int64_t begin = g.n * t / threads, end = g.n * (t + 1) / threads;
    for (int64_t n0 = begin; n0 < end; n0 += chunk) body(t, n0, std::min(chunk, end - n0), cols, prod);
  }
}

}  // namespace

void CpuBackend::conv2d_forward(const ConvGeometry& g, const Tensor& x, const Tensor& w,
                                Tensor& y) {
  if (x.dtype() == DType::F32) {
    switch (cpu::conv_kernel(g, cpu::ConvPass::forward)) {
      case cpu::ConvKernel::onednn: return cpu::onednn_conv_forward(g, x.data<float>(), w.data<float>(), y.data<float>());
      case cpu::ConvKernel::direct: return cpu::direct_conv_forward(g, x.data<float>(), w.data<float>(), y.data<float>());
      case cpu::ConvKernel::im2col: break;
    }
  }
  dispatch(x.dtype(), [&]<class T>() {
    const int64_t hw = g.h_out * g.w_out, k = g.c_in * g.kh * g.kw;
    for_each_chunk<T>(g, [&](int, int64_t n0, int64_t count, T* cols, T* prod) {
      im2col(g, x.data<T>(), n0, count, cols);
      cpu_gemm<T>(false, false, g.c_out, count * hw, k, T(1), w.data<T>(), cols, T(0), prod);
      channels_to_images(prod, g.c_out, count, hw, y.data<T>() + n0 * g.c_out * hw);
    });
  });
}

void CpuBackend::conv2d_backward_data(const ConvGeometry& g, const Tensor& gy, const Tensor& w,
                                      Tensor& gx) {
  if (gy.dtype() == DType::F32 && cpu::conv_kernel(g, cpu::ConvPass::backward_data) == cpu::ConvKernel::onednn)
    return cpu::onednn_conv_backward_data(g, gy.data<float>(), w.data<float>(), gx.data<float>());
  dispatch(gy.dtype(), [&]<class T>() {
    const int64_t hw = g.h_out * g.w_out, k = g.c_in * g.kh * g.kw;
    std::fill_n(gx.data<T>(), gx.numel(), T(0));  // col2im accumulates overlapping windows
    for_each_chunk<T>(g, [&](int, int64_t n0, int64_t count, T* cols, T* gprod) {
      images_to_channels(gy.data<T>() + n0 * g.c_out * hw, g.c_out, count, hw, gprod);
      cpu_gemm<T>(true, false, k, count * hw, g.c_out, T(1), w.data<T>(), gprod, T(0), cols);
      col2im(g, cols, n0, count, gx.data<T>());
    });
  });
}

void CpuBackend::conv2d_backward_filter(const ConvGeometry& g, const Tensor& x, const Tensor& gy,
                                        Tensor& gw) {
  if (x.dtype() == DType::F32) {
    switch (cpu::conv_kernel(g, cpu::ConvPass::backward_filter)) {
      case cpu::ConvKernel::onednn:
        return cpu::onednn_conv_backward_filter(g, x.data<float>(), gy.data<float>(), gw.data<float>());
      case cpu::ConvKernel::direct:
        return cpu::direct_conv_backward_filter(g, x.data<float>(), gy.data<float>(), gw.data<float>());
      case cpu::ConvKernel::im2col: break;
    }
  }
  dispatch(x.dtype(), [&]<class T>() {
    const int64_t hw = g.h_out * g.w_out, k = g.c_in * g.kh * g.kw, size = g.c_out * k;
    // Thread 0 accumulates into gw itself, the others into partials added in thread order.
    const int threads = conv_threads(g);
    const auto partials = cpu::CachingAllocator::instance().allocate(sizeof(T) * (threads - 1) * size);
    auto target = [&](int t) { return t == 0 ? gw.data<T>() : static_cast<T*>(partials.get()) + (t - 1) * size; };
    std::vector<char> started(threads, 0);
    for_each_chunk<T>(g, [&](int t, int64_t n0, int64_t count, T* cols, T* gprod) {
      im2col(g, x.data<T>(), n0, count, cols);
      images_to_channels(gy.data<T>() + n0 * g.c_out * hw, g.c_out, count, hw, gprod);
      // A thread's first chunk assigns, its later chunks accumulate.
      cpu_gemm<T>(false, true, g.c_out, k, count * hw, T(1), gprod, cols, started[t] ? T(1) : T(0), target(t));
      started[t] = 1;
    });
    T* out = gw.data<T>();
    for (int t = 1; t < threads; ++t) {
      const T* part = target(t);
      cpu::parallel_ranges(size, 65536, [out, part](int64_t begin, int64_t end) {
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) out[i] += part[i];
      });
    }
  });
}

}  // namespace imx
