// Separable triangle-filter resampling (see bilinear_taps in augment.hpp).
#include <algorithm>
#include <cmath>

#include "checks.hpp"
#include "imx/data/augment.hpp"

namespace imx::data {

ResizeTaps bilinear_taps(int in_size, int out_size) {
  if (in_size <= 0 || out_size <= 0)
    throw DataError(detail::cat("resize: sizes must be positive, found ", in_size, " -> ", out_size));
  const double scale = static_cast<double>(in_size) / out_size;
  const double support = std::max(scale, 1.0);  // half-width of the triangle, in input pixels
  ResizeTaps taps;
  taps.out_size = out_size;
  taps.max_taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(static_cast<std::size_t>(out_size) * taps.max_taps, 0.0f);
  for (int i = 0; i < out_size; ++i) {
    const double centre = (i + 0.5) * scale;  // in input coordinates, pixel j spans [j, j+1)
    const int lo = std::max(0, static_cast<int>(std::floor(centre - support)));
    const int hi = std::min(in_size - 1, static_cast<int>(std::ceil(centre + support)));
    std::vector<double> weights;
    double total = 0;
    for (int j = lo; j <= hi; ++j) {
      weights.push_back(std::max(0.0, 1.0 - std::abs(j + 0.5 - centre) / support));
      total += weights.back();
    }
    // Drop zero-weight taps at both ends: at most 2·ceil(support) remain (max_taps).
    std::size_t begin = 0, end = weights.size();
    while (begin < end && weights[begin] == 0) ++begin;
    while (end > begin && weights[end - 1] == 0) --end;
    taps.first[i] = lo + static_cast<int>(begin);
    taps.count[i] = static_cast<int>(end - begin);
    for (std::size_t t = begin; t < end; ++t)
      taps.weights[static_cast<std::size_t>(i) * taps.max_taps + (t - begin)] = static_cast<float>(weights[t] / total);
  }
  return taps;
}

void resize_bilinear(const float* in, int channels, int height, int width, const ResizeTaps& rows,
                     const ResizeTaps& cols, float* scratch, float* out) {
  const int out_h = rows.out_size, out_w = cols.out_size;
  // Horizontal pass: channels × height × out_w.
  for (int k = 0; k < channels; ++k)
    for (int y = 0; y < height; ++y) {
      const float* src = in + (static_cast<std::size_t>(k) * height + y) * width;
      float* dst = scratch + (static_cast<std::size_t>(k) * height + y) * out_w;
      for (int x = 0; x < out_w; ++x) {
        const float* w = cols.weights.data() + static_cast<std::size_t>(x) * cols.max_taps;
        const float* s = src + cols.first[x];
        float sum = 0;
        for (int t = 0; t < cols.count[x]; ++t) sum += w[t] * s[t];
        dst[x] = sum;
      }
    }
  // Vertical pass.
  for (int k = 0; k < channels; ++k) {
    const float* plane = scratch + static_cast<std::size_t>(k) * height * out_w;
    for (int y = 0; y < out_h; ++y) {
      float* dst = out + (static_cast<std::size_t>(k) * out_h + y) * out_w;
      std::fill(dst, dst + out_w, 0.0f);
      const float* w = rows.weights.data() + static_cast<std::size_t>(y) * rows.max_taps;
      for (int t = 0; t < rows.count[y]; ++t) {
        const float* src = plane + static_cast<std::size_t>(rows.first[y] + t) * out_w;
        for (int x = 0; x < out_w; ++x) dst[x] += w[t] * src[x];
      }
    }
  }
}

std::vector<float> resize_bilinear(const float* in, int channels, int height, int width, int out_height,
                                   int out_width) {
  const ResizeTaps rows = bilinear_taps(height, out_height), cols = bilinear_taps(width, out_width);
  std::vector<float> scratch(static_cast<std::size_t>(channels) * height * out_width);
  std::vector<float> out(static_cast<std::size_t>(channels) * out_height * out_width);
  resize_bilinear(in, channels, height, width, rows, cols, scratch.data(), out.data());
  return out;
}

}  // namespace imx::data
