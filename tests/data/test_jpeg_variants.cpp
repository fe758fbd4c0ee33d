// JPEGs written by libjpeg-turbo in the variants real data sets contain (progressive, restart
// markers, chroma subsampling, optimized Huffman tables, grayscale) must pass our JPEG segment
// checks and decode close to the image that was encoded.
#include <catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <jpeglib.h>

#include "imx/data/image_codec.hpp"

using namespace imx::data;

namespace {

constexpr int kWidth = 61, kHeight = 47;  // not multiples of the 8/16-pixel JPEG blocks

// A smooth test image: different in every channel.
std::uint8_t source_pixel(int channel, int y, int x) {
  return static_cast<std::uint8_t>(128 + 100 * std::sin(x * 0.2 + channel) * std::cos(y * 0.15));
}

struct Variant {
  int channels;
  bool progressive, subsample, optimize;
  int restart_interval;  // MCUs between restart markers; 0 = none
};

std::vector<std::uint8_t> libjpeg_encode(const Variant& v) {
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = kWidth;
  info.image_height = kHeight;
  info.input_components = v.channels;
  info.in_color_space = v.channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 95, TRUE);
  if (v.progressive) jpeg_simple_progression(&info);
  info.restart_interval = static_cast<unsigned>(v.restart_interval);
  info.optimize_coding = v.optimize;
  if (v.channels == 3 && !v.subsample) info.comp_info[0].h_samp_factor = info.comp_info[0].v_samp_factor = 1;
  jpeg_start_compress(&info, TRUE);
  std::vector<JSAMPLE> row(static_cast<std::size_t>(kWidth) * v.channels);
  while (info.next_scanline < info.image_height) {
    const int y = static_cast<int>(info.next_scanline);
    for (int x = 0; x < kWidth; ++x)
      for (int k = 0; k < v.channels; ++k) row[x * v.channels + k] = source_pixel(k, y, x);
    JSAMPROW rows[] = {row.data()};
    jpeg_write_scanlines(&info, rows, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::vector<std::uint8_t> out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

}  // namespace

TEST_CASE("libjpeg-turbo variants decode through stb", "[jpeg]") {
  for (int channels : {1, 3})
    for (bool progressive : {false, true})
      for (int restart : {0, 3})
        for (bool subsample : {false, true})
          for (bool optimize : {false, true}) {
            const Variant v{channels, progressive, subsample, optimize, restart};
            INFO("channels " << channels << " progressive " << progressive << " restart " << restart
                             << " subsample " << subsample << " optimize " << optimize);
            const auto jpeg = libjpeg_encode(v);
            const DecodedImage image = decode_image(jpeg, "variant.jpg", channels);
            REQUIRE(image.height == kHeight);
            REQUIRE(image.width == kWidth);
            double error = 0;
            for (int k = 0; k < channels; ++k)
              for (int y = 0; y < kHeight; ++y)
                for (int x = 0; x < kWidth; ++x)
                  error += std::abs(int(image.pixels[(static_cast<std::size_t>(k) * kHeight + y) * kWidth + x]) -
                                    int(source_pixel(k, y, x)));
            // Quality 95 on a smooth image: about 1 level on average (subsampled chroma ~1.5).
            REQUIRE(error / (channels * kHeight * kWidth) < 3.0);
          }
}
