#pragma once
// Preprocessing and augmentation on C×H×W float images. Primitives first, then the Augmenter
// that chains them per image with random choices keyed by (seed, epoch, image index).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace imx::data {

// out = in / 127.5 - 1: bytes 0..255 to [-1, 1].
void scale_to_unit_range(const std::uint8_t* in, std::size_t count, float* out);

// Copies the window of rows [top, top + out_height) and columns [left, left + out_width) of
// every plane; window positions outside the image get `fill`. Negative offsets or a window
// larger than the image pad; an inner window crops.
void copy_window(const float* in, int channels, int height, int width, int top, int left, int out_height,
                 int out_width, float fill, float* out);

// Mirrors every row, in place.
void flip_horizontal(float* image, int channels, int height, int width);

// Resampling weights along one axis: output i = Σ weights[i][t] · input[first[i] + t].
// A triangle (bilinear) filter at half-pixel centres; when shrinking, the triangle is widened
// by the scale factor so every input pixel contributes (antialiasing, as PIL's bilinear
// resize does); growing is plain bilinear with edge clamping.
struct ResizeTaps {
  int out_size = 0, max_taps = 0;
  std::vector<int> first, count;
  std::vector<float> weights;  // out_size × max_taps
};
ResizeTaps bilinear_taps(int in_size, int out_size);

// Resizes every plane; `scratch` holds channels × height × out_width floats.
void resize_bilinear(const float* in, int channels, int height, int width, const ResizeTaps& rows,
                     const ResizeTaps& cols, float* scratch, float* out);
// Convenience form that builds the taps and scratch itself.
std::vector<float> resize_bilinear(const float* in, int channels, int height, int width, int out_height,
                                   int out_width);

struct AugmentConfig {
  int pad_to = 0;        // centre-pad to pad_to × pad_to (e.g. 28 → 32); 0 = off
  int resize_to = 0;     // bilinear resize to resize_to × resize_to (e.g. STL-10 96 → 64); 0 = off
  int crop_padding = 0;  // pad by this much on every side, then crop back at a random offset
  int crop_to = 0;       // random crop_to × crop_to crop (no padding); 0 = off
  bool hflip = false;    // mirror with probability 1/2
  float fill = -1.0f;    // value of padded pixels, after scaling (-1 = black)
  bool any() const { return pad_to || resize_to || crop_padding || crop_to || hflip; }
};

// Applies, in order: scale to [-1, 1], pad_to, resize_to, crop_padding, crop_to, hflip.
class Augmenter {
 public:
  // Throws DataError when a step does not fit the image (e.g. pad_to smaller than the image).
  Augmenter(int channels, int height, int width, const AugmentConfig& config, std::uint64_t seed);

  int channels() const { return channels_; }
  int out_height() const { return out_height_; }
  int out_width() const { return out_width_; }
  std::size_t out_size() const { return static_cast<std::size_t>(channels_) * out_height_ * out_width_; }

  // Per-thread working memory, reused across calls.
  struct Scratch {
    std::vector<float> a, b, resize;
  };
  // in: channels × height × width bytes; out: out_size() floats.
  void apply(const std::uint8_t* in, std::uint64_t epoch, std::uint64_t index, float* out, Scratch& scratch) const;

 private:
  int channels_, height_, width_;
  AugmentConfig config_;
  std::uint64_t seed_;
  ResizeTaps resize_rows_, resize_cols_;
  int out_height_, out_width_;
  std::size_t max_elems_;  // largest intermediate image, for the scratch buffers
};

}  // namespace imx::data
