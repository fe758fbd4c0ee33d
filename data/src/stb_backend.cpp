#include "stb_backend.hpp"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 65536
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace imx::data::detail {

bool stb_info(const std::uint8_t* bytes, int length, int* width, int* height, int* channels) {
  return stbi_info_from_memory(bytes, length, width, height, channels) != 0;
}

std::uint8_t* stb_load(const std::uint8_t* bytes, int length, int* width, int* height, int channels) {
  int stored = 0;
  return stbi_load_from_memory(bytes, length, width, height, &stored, channels);
}

void stb_free(std::uint8_t* pixels) { stbi_image_free(pixels); }

const char* stb_failure_reason() {
  const char* reason = stbi_failure_reason();
  return reason ? reason : "unknown stb_image error";
}

bool stb_write_png(StbWriteSink sink, void* context, int width, int height, int channels, const std::uint8_t* hwc) {
  return stbi_write_png_to_func(sink, context, width, height, channels, hwc, width * channels) != 0;
}

bool stb_write_jpg(StbWriteSink sink, void* context, int width, int height, int channels, const std::uint8_t* hwc,
                   int quality) {
  return stbi_write_jpg_to_func(sink, context, width, height, channels, hwc, quality) != 0;
}

}  // namespace imx::data::detail
