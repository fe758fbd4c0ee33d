// The float32 CPU convolution paths (oneDNN's direct kernels, the first-layer kernel and im2col,
// engine/cpu/conv_library.h) against the float64 im2col path, which test_forward and test_grad check against a naive loop
// and finite differences: forward, data gradient and filter gradient, at the DIM encoders'
// layer sizes and at odd ones (channels not a multiple of 16, stride 3, far-side padding that
// the output size drops, non-square images, 1x1 filters).
#include <omp.h>

#include <cmath>
#include <vector>

#include "engine/cpu/conv_library.h"
#include "engine/cpu/direct_conv.h"
#include "engine/cpu/onednn_conv.h"
#include "engine/ops.h"
#include "helpers.h"

using namespace imx;
using testing::random_tensor;
using testing::rel_error;

namespace {

struct Case {
  int n, ci, h, w, co, k, s, p;
};
const Case kCases[] = {{8, 3, 32, 32, 64, 4, 2, 1},   {8, 64, 16, 16, 128, 4, 2, 1}, {4, 128, 8, 8, 256, 4, 2, 1},
                       {8, 1, 28, 28, 64, 5, 2, 2},   {2, 3, 9, 7, 5, 3, 1, 1},      {3, 20, 11, 10, 24, 3, 3, 2},
                       {2, 17, 13, 13, 33, 5, 2, 2}, {2, 32, 5, 6, 48, 1, 1, 0},    {1, 16, 7, 7, 16, 2, 2, 0}};

// y, dL/dx and dL/dw for L = sum(y * r), in the dtype of x.
struct Result {
  std::vector<double> y, gx, gw;
};
Result run(const Tensor& x0, const Tensor& w0, const Tensor& r0, DType dt, const Case& c) {
  Tensor x = x0.to(dt), w = w0.to(dt);
  x.set_requires_grad(true), w.set_requires_grad(true);
  Tensor y = conv2d(x, w, {}, c.s, c.p);
  sum(mul(y, r0.to(dt))).backward();
  return {y.to_vector(), x.grad().to_vector(), w.grad().to_vector()};
}

// Sets the float32 convolution library for a scope.
struct ScopedConvLibrary {
  explicit ScopedConvLibrary(cpu::ConvLibrary l) : saved(cpu::conv_library()) { cpu::set_conv_library(l); }
  ~ScopedConvLibrary() { cpu::set_conv_library(saved); }
  cpu::ConvLibrary saved;
};

std::vector<cpu::ConvLibrary> libraries() {
  std::vector<cpu::ConvLibrary> out{cpu::ConvLibrary::im2col, cpu::ConvLibrary::automatic};
  ConvGeometry probe{1, 16, 8, 8, 16, 3, 3, 1, 1, 8, 8};
  if (cpu::onednn_conv_available(probe)) out.push_back(cpu::ConvLibrary::onednn);
  return out;
}

}  // namespace

TEST_CASE("float32 convolutions match the float64 path, on every CPU library", "[forward][conv]") {
  for (cpu::ConvLibrary lib : libraries()) {
    ScopedConvLibrary scoped(lib);
    for (const Case& c : kCases) {
      INFO("library " << cpu::conv_library_name(lib) << ", input [" << c.n << ", " << c.ci << ", " << c.h << ", "
                      << c.w << "], " << c.co << " filters " << c.k << "x" << c.k << " stride " << c.s << " pad "
                      << c.p);
      const int ho = (c.h + 2 * c.p - c.k) / c.s + 1, wo = (c.w + 2 * c.p - c.k) / c.s + 1;
      Tensor x = random_tensor({c.n, c.ci, c.h, c.w}, 1), w = random_tensor({c.co, c.ci, c.k, c.k}, 2),
             r = random_tensor({c.n, c.co, ho, wo}, 3);
      const Result f64 = run(x, w, r, DType::F64, c), f32 = run(x, w, r, DType::F32, c);
      CHECK(rel_error(f32.y, f64.y) < 2e-5);
      CHECK(rel_error(f32.gx, f64.gx) < 2e-5);
      CHECK(rel_error(f32.gw, f64.gw) < 2e-5);
    }
  }
}

TEST_CASE("float32 convolutions: forward and data gradient repeat bit for bit on 1 and 2 threads",
          "[forward][conv]") {
  for (cpu::ConvLibrary lib : libraries()) {
    ScopedConvLibrary scoped(lib);
    const Case c{8, 64, 16, 16, 128, 4, 2, 1};
    Tensor x = random_tensor({c.n, c.ci, c.h, c.w}, 4), w = random_tensor({c.co, c.ci, c.k, c.k}, 5),
           r = random_tensor({c.n, c.co, 8, 8}, 6);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    const Result one = run(x, w, r, DType::F32, c);
    omp_set_num_threads(2);
    const Result two = run(x, w, r, DType::F32, c), again = run(x, w, r, DType::F32, c);
    omp_set_num_threads(saved);
    INFO("library " << cpu::conv_library_name(lib));
    CHECK(one.y == two.y);
    CHECK(one.gx == two.gx);
    // The filter gradient sums per-thread partials: the same bits at the same thread count.
    CHECK(two.gw == again.gw);
    CHECK(rel_error(one.gw, two.gw) < 2e-5);
  }
}

TEST_CASE("IMX_CONV's libraries have names, pick a kernel per pass, and onednn is refused without oneDNN",
          "[conv]") {
  CHECK(std::string(cpu::conv_library_name(cpu::ConvLibrary::im2col)) == "im2col");
  CHECK(std::string(cpu::conv_library_name(cpu::ConvLibrary::onednn)) == "onednn");
  const ConvGeometry first{64, 3, 32, 32, 64, 4, 4, 2, 1, 16, 16}, wide{1, 16, 8, 8, 16, 3, 3, 1, 1, 8, 8};
  {
    ScopedConvLibrary scoped(cpu::ConvLibrary::im2col);
    CHECK(cpu::conv_kernel(first, cpu::ConvPass::forward) == cpu::ConvKernel::im2col);
    CHECK(cpu::conv_kernel(wide, cpu::ConvPass::backward_filter) == cpu::ConvKernel::im2col);
  }
  {
    ScopedConvLibrary scoped(cpu::ConvLibrary::automatic);
    const bool direct = cpu::direct_conv_fits(first), onednn = cpu::onednn_conv_available(wide);
    const auto first_layer = direct ? cpu::ConvKernel::direct
                             : cpu::onednn_conv_available(first) ? cpu::ConvKernel::onednn
                                                                 : cpu::ConvKernel::im2col;
    CHECK(cpu::conv_kernel(first, cpu::ConvPass::forward) == first_layer);
    CHECK(cpu::conv_kernel(first, cpu::ConvPass::backward_filter) == first_layer);
    CHECK(cpu::conv_kernel(first, cpu::ConvPass::backward_data) == cpu::ConvKernel::im2col);  // 3 input channels
    CHECK_FALSE(cpu::direct_conv_fits(wide));                                                // 16 input channels
    CHECK(cpu::conv_kernel(wide, cpu::ConvPass::forward) == (onednn ? cpu::ConvKernel::onednn : cpu::ConvKernel::im2col));
    CHECK(cpu::conv_kernel(wide, cpu::ConvPass::backward_data) ==
          (onednn ? cpu::ConvKernel::onednn : cpu::ConvKernel::im2col));
  }
  if (libraries().size() == 2) CHECK_THROWS(cpu::set_conv_library(cpu::ConvLibrary::onednn));
}

// The first-layer kernel, called directly (whatever the setting picks), against the float64
// path: widths that fill one vector, two, or part of one; odd widths on the stride-2 vector
// copy; input columns no output uses (holding a NaN here, which must not reach any result);
// channels and taps that are not multiples of its blocks (16 channels forward; 4 channels x 6
// taps for the filter gradient); strides 1 to 3; padding wider than the filter; fewer images
// than threads; 1 and 2 threads.
TEST_CASE("the first-layer convolution kernel matches the float64 path", "[forward][conv]") {
  const Case cases[] = {{8, 3, 32, 32, 64, 4, 2, 1}, {8, 1, 28, 28, 64, 5, 2, 2}, {3, 3, 64, 64, 32, 4, 2, 1},
                        {2, 3, 9, 7, 5, 3, 1, 1},    {3, 2, 37, 40, 7, 3, 3, 0},   {2, 3, 9, 9, 17, 5, 1, 6},
                        {1, 7, 6, 35, 3, 1, 1, 0},   {2, 4, 10, 12, 21, 2, 2, 1},  {2, 3, 33, 33, 8, 2, 2, 0},
                        {3, 3, 35, 35, 8, 4, 2, 1},  {1, 1, 20, 58, 6, 13, 3, 1}};
  for (const Case& c : cases) {
    const int ho = (c.h + 2 * c.p - c.k) / c.s + 1, wo = (c.w + 2 * c.p - c.k) / c.s + 1;
    const ConvGeometry g{c.n, c.ci, c.h, c.w, c.co, c.k, c.k, c.s, c.p, ho, wo};
    if (!cpu::direct_conv_fits(g)) {
      WARN("skipped: this build does not target AVX-512, so it has no first-layer kernel");
      return;
    }
    INFO("input [" << c.n << ", " << c.ci << ", " << c.h << ", " << c.w << "], " << c.co << " filters " << c.k << "x"
                   << c.k << " stride " << c.s << " pad " << c.p);
    Tensor x = random_tensor({c.n, c.ci, c.h, c.w}, 7), w = random_tensor({c.co, c.ci, c.k, c.k}, 8),
           r = random_tensor({c.n, c.co, ho, wo}, 9);
    const bool last_column_unused = (wo - 1) * c.s - c.p + c.k < c.w;
    if (last_column_unused)
      for (int64_t row = 0; row < int64_t(c.n) * c.ci * c.h; ++row) x.data<double>()[row * c.w + c.w - 1] = NAN;
    const Result f64 = run(x, w, r, DType::F64, c);
    const Tensor x32 = x.to(DType::F32), w32 = w.to(DType::F32), r32 = r.to(DType::F32);
    // Filled with a value no output has: every output must be written.
    const auto forward = [&] {
      Tensor y = Tensor::full({c.n, c.co, ho, wo}, 12345.0);
      cpu::direct_conv_forward(g, x32.data<float>(), w32.data<float>(), y.data<float>());
      return y.to_vector();
    };
    const auto filter = [&] {
      Tensor gw = Tensor::full({c.co, c.ci, c.k, c.k}, 12345.0);
      cpu::direct_conv_backward_filter(g, x32.data<float>(), r32.data<float>(), gw.data<float>());
      return gw.to_vector();
    };
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    const std::vector<double> y1 = forward(), gw1 = filter();
    omp_set_num_threads(2);
    const std::vector<double> y2 = forward(), gw2 = filter(), gw2_again = filter();
    omp_set_num_threads(saved);
    CHECK(rel_error(y2, f64.y) < 2e-5);
    CHECK(rel_error(gw2, f64.gw) < 2e-5);
    CHECK(rel_error(gw1, f64.gw) < 2e-5);
    CHECK(y1 == y2);  // each output summed in one order, by one thread
    CHECK(gw2 == gw2_again);
  }
}
