#pragma once
// PNG/JPEG decoding (stb_image, PNG and JPEG only) and encoding (stb_image_write), in C×H×W
// uint8 layout. Images larger than kMaxImagePixels are refused before decoding.
#include <cstdint>
#include <string>
#include <vector>

#include "imx/data/bytes.hpp"

namespace imx::data {

inline constexpr std::uint64_t kMaxImagePixels = std::uint64_t{1} << 24;  // e.g. 4096×4096

struct ImageInfo {
  int width = 0, height = 0;
  int channels = 0;  // as stored: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
};

// Reads only the header. DataError naming `source` when it is not a PNG/JPEG or too large.
ImageInfo image_info(ByteView bytes, const std::string& source);

// Decodes to `channels` (1 or 3; gray is replicated to RGB, RGB is reduced to luma, alpha is
// dropped) into out[channels×H×W]. The image must be expected_height × expected_width.
void decode_image_into(ByteView bytes, const std::string& source, int channels, int expected_height,
                       int expected_width, std::uint8_t* out);

// Decoded image of whatever size the file has.
struct DecodedImage {
  int channels = 0, height = 0, width = 0;
  std::vector<std::uint8_t> pixels;  // C×H×W
};
DecodedImage decode_image(ByteView bytes, const std::string& source, int channels);

// Encoders take C×H×W pixels with channels 1 or 3.
std::vector<std::uint8_t> encode_png(const std::uint8_t* chw, int channels, int height, int width);
std::vector<std::uint8_t> encode_jpeg(const std::uint8_t* chw, int channels, int height, int width,
                                      int quality = 95);

}  // namespace imx::data
