#pragma once
// The few stb_image / stb_image_write entry points the codec uses. stb is compiled in
// stb_backend.cpp only, with static linkage (no clash with any other copy of stb in a binary),
// so that the fuzz build can give that third-party file its own sanitizer settings.
#include <cstdint>

namespace imx::data::detail {

bool stb_info(const std::uint8_t* bytes, int length, int* width, int* height, int* channels);
// Interleaved pixels with `channels` components, or null (see stb_failure_reason).
std::uint8_t* stb_load(const std::uint8_t* bytes, int length, int* width, int* height, int channels);
void stb_free(std::uint8_t* pixels);
const char* stb_failure_reason();

using StbWriteSink = void (*)(void* context, void* data, int size);
bool stb_write_png(StbWriteSink sink, void* context, int width, int height, int channels, const std::uint8_t* hwc);
bool stb_write_jpg(StbWriteSink sink, void* context, int width, int height, int channels, const std::uint8_t* hwc,
                   int quality);

}  // namespace imx::data::detail
