#include "imx/data/augment.hpp"

#include <algorithm>
#include <cstring>

#include "checks.hpp"
#include "imx/data/rng.hpp"

namespace imx::data {
using detail::cat;

void scale_to_unit_range(const std::uint8_t* in, std::size_t count, float* out) {
  constexpr float inv = 1.0f / 127.5f;
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<float>(in[i]) * inv - 1.0f;
}

void copy_window(const float* in, int channels, int height, int width, int top, int left, int out_height,
                 int out_width, float fill, float* out) {
  // Columns x of the output with 0 <= left + x < width come from the image.
  const int x0 = std::clamp(-left, 0, out_width), x1 = std::clamp(width - left, x0, out_width);
  for (int k = 0; k < channels; ++k)
    for (int y = 0; y < out_height; ++y) {
      float* dst = out + (static_cast<std::size_t>(k) * out_height + y) * out_width;
      const int src_y = top + y;
      if (src_y < 0 || src_y >= height) {
        std::fill(dst, dst + out_width, fill);
        continue;
      }
      const float* src = in + (static_cast<std::size_t>(k) * height + src_y) * width + left;
      std::fill(dst, dst + x0, fill);
      std::copy(src + x0, src + x1, dst + x0);
      std::fill(dst + x1, dst + out_width, fill);
    }
}

void flip_horizontal(float* image, int channels, int height, int width) {
  for (int row = 0; row < channels * height; ++row) {
    float* line = image + static_cast<std::size_t>(row) * width;
    std::reverse(line, line + width);
  }
}

Augmenter::Augmenter(int channels, int height, int width, const AugmentConfig& config, std::uint64_t seed)
    : channels_(channels), height_(height), width_(width), config_(config), seed_(seed) {
  if (channels <= 0 || height <= 0 || width <= 0)
    throw DataError(cat("augment: bad input shape ", channels, "x", height, "x", width));
  int h = height, w = width;
  std::size_t largest = static_cast<std::size_t>(h) * w;
  if (config.pad_to) {
    if (config.pad_to < h || config.pad_to < w)
      throw DataError(cat("augment: pad_to ", config.pad_to, " is smaller than the ", h, "x", w, " image"));
    h = w = config.pad_to;
    largest = std::max(largest, static_cast<std::size_t>(h) * w);
  }
  if (config.resize_to) {
    if (config.resize_to < 0) throw DataError(cat("augment: resize_to must be positive, found ", config.resize_to));
    resize_rows_ = bilinear_taps(h, config.resize_to);
    resize_cols_ = bilinear_taps(w, config.resize_to);
    h = w = config.resize_to;
    largest = std::max(largest, static_cast<std::size_t>(h) * w);
  }
  if (config.crop_padding < 0)
    throw DataError(cat("augment: crop_padding must be >= 0, found ", config.crop_padding));
  if (config.crop_to) {
    if (config.crop_to < 0 || config.crop_to > h || config.crop_to > w)
      throw DataError(cat("augment: crop_to ", config.crop_to, " does not fit the ", h, "x", w, " image"));
    h = w = config.crop_to;
  }
  out_height_ = h;
  out_width_ = w;
  max_elems_ = largest * static_cast<std::size_t>(channels);
}

void Augmenter::apply(const std::uint8_t* in, std::uint64_t epoch, std::uint64_t index, float* out,
                      Scratch& scratch) const {
  const std::size_t in_size = static_cast<std::size_t>(channels_) * height_ * width_;
  if (!config_.any()) {
    scale_to_unit_range(in, in_size, out);
    return;
  }
  scratch.a.resize(max_elems_);
  scratch.b.resize(max_elems_);
  float* current = scratch.a.data();
  float* spare = scratch.b.data();
  int h = height_, w = width_;
  scale_to_unit_range(in, in_size, current);
  auto window = [&](int top, int left, int new_h, int new_w) {
    copy_window(current, channels_, h, w, top, left, new_h, new_w, config_.fill, spare);
    std::swap(current, spare);
    h = new_h;
    w = new_w;
  };
  CounterRng rng(seed_, epoch, index);
  if (config_.pad_to) window(-(config_.pad_to - h) / 2, -(config_.pad_to - w) / 2, config_.pad_to, config_.pad_to);
  if (config_.resize_to) {
    scratch.resize.resize(static_cast<std::size_t>(channels_) * h * config_.resize_to);
    resize_bilinear(current, channels_, h, w, resize_rows_, resize_cols_, scratch.resize.data(), spare);
    std::swap(current, spare);
    h = w = config_.resize_to;
  }
  if (const int p = config_.crop_padding) {
    const int top = static_cast<int>(rng.below(2 * p + 1)) - p;
    const int left = static_cast<int>(rng.below(2 * p + 1)) - p;
    window(top, left, h, w);
  }
  if (const int s = config_.crop_to) {
    const int top = static_cast<int>(rng.below(h - s + 1));
    const int left = static_cast<int>(rng.below(w - s + 1));
    window(top, left, s, s);
  }
  if (config_.hflip && rng.coin()) flip_horizontal(current, channels_, h, w);
  std::memcpy(out, current, out_size() * sizeof(float));
}

}  // namespace imx::data
