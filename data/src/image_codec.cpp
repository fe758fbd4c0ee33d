// PNG/JPEG through stb (see stb_backend.hpp), converted between stb's interleaved pixels and
// our planar C×H×W layout.
#include "imx/data/image_codec.hpp"

#include <algorithm>
#include <memory>

#include "checks.hpp"
#include "stb_backend.hpp"

namespace imx::data {
using detail::fail;

namespace {

// stb_image 2.27 (Debian 12) trusts two things a corrupt JPEG can break (both checked upstream
// since 2.28): a DHT table declaring more than 256 codes overflows its arrays, and a scan that
// uses a Huffman table no DHT defined decodes with uninitialised tables (an assertion, or
// reads out of bounds without asserts). So every marker segment is checked before stb sees the
// bytes, reading them the way stb does: bytes past the end read as 0, entropy-coded data
// between scans is skipped, and tables may be (re)defined between the scans of a progressive
// JPEG. A valid JPEG never fails these checks.
void check_jpeg_segments(ByteView bytes, const std::string& source) {
  const std::size_t size = bytes.size();
  auto byte_at = [&](std::size_t i) { return i < size ? bytes[i] : std::uint8_t{0}; };
  bool defined[2][4] = {};  // [0 = DC, 1 = AC][table id]
  bool progressive = false;
  std::size_t pos = 0;
  while (pos < size) {
    if (bytes[pos] != 0xff) {  // entropy-coded data: find the next marker
      ++pos;
      continue;
    }
    while (pos < size && bytes[pos] == 0xff) ++pos;  // fill bytes
    if (pos >= size) return;
    const std::uint8_t marker = bytes[pos++];
    // No length follows stuffing, RSTn, TEM or SOI.
    if (marker == 0x00 || (marker >= 0xd0 && marker <= 0xd8) || marker == 0x01) continue;
    if (marker == 0xd9) return;  // EOI
    if (pos + 2 > size) return;  // stb reports the truncation
    const std::size_t length = (std::size_t{bytes[pos]} << 8) | bytes[pos + 1];
    if (marker == 0xc2) progressive = true;
    if (marker == 0xc0 || marker == 0xc1) progressive = false;
    if (marker == 0xc4) {  // DHT: tables of class/id byte, 16 code counts, the symbols
      std::ptrdiff_t remaining = static_cast<std::ptrdiff_t>(length) - 2;
      std::size_t table = pos + 2;
      while (remaining > 0) {
        std::size_t codes = 0;
        for (int i = 1; i <= 16; ++i) codes += byte_at(table + i);
        if (codes > 256) fail(source, "corrupt JPEG: Huffman table with ", codes, " codes, expected at most 256");
        const int table_class = byte_at(table) >> 4, table_id = byte_at(table) & 15;
        if (table_class <= 1 && table_id <= 3) defined[table_class][table_id] = true;
        table += 17 + codes;
        remaining -= static_cast<std::ptrdiff_t>(17 + codes);
      }
    }
    if (marker == 0xda) {  // SOS: components with their DC/AC table ids, then Ss, Se, Ah|Al
      const std::size_t components = byte_at(pos + 2);
      const int spectral_start = byte_at(pos + 3 + 2 * components);
      const int approximation_high = byte_at(pos + 5 + 2 * components) >> 4;
      // Progressive scans use DC tables only in a first DC scan, AC tables only in AC scans.
      const bool uses_dc = !progressive || (spectral_start == 0 && approximation_high == 0);
      const bool uses_ac = !progressive || spectral_start > 0;
      for (std::size_t c = 0; c < components; ++c) {
        const int tables = byte_at(pos + 4 + 2 * c), dc = tables >> 4, ac = tables & 15;
        if (uses_dc && dc <= 3 && !defined[0][dc])
          fail(source, "corrupt JPEG: a scan uses DC Huffman table ", dc, ", which no DHT segment defines");
        if (uses_ac && ac <= 3 && !defined[1][ac])
          fail(source, "corrupt JPEG: a scan uses AC Huffman table ", ac, ", which no DHT segment defines");
      }
    }
    pos += std::max<std::size_t>(length, 2);
  }
}

// stb_image grows its buffer of compressed data by each chunk's declared length before it reads
// the chunk, so a length past the end of the file (up to 2^31) becomes a huge allocation: walk
// the chunks first and refuse any that claims more bytes than the file has.
void check_png_chunks(ByteView bytes, const std::string& source) {
  const std::size_t size = bytes.size();
  std::size_t pos = 8;  // after the signature
  while (pos + 8 <= size) {
    const std::size_t length = (std::size_t{bytes[pos]} << 24) | (std::size_t{bytes[pos + 1]} << 16) |
                               (std::size_t{bytes[pos + 2]} << 8) | bytes[pos + 3];
    const std::string type(reinterpret_cast<const char*>(bytes.data() + pos + 4), 4);
    if (length > size - pos - 8 || size - pos - 8 - length < 4)
      fail(source, "corrupt or truncated PNG: chunk '", type, "' at byte ", pos, " declares ", length,
           " bytes, the file has ", size - pos - 8, " after its header");
    if (type == "IEND") return;
    pos += 12 + length;  // length, type, data, CRC
  }
}

bool is_png(ByteView bytes) {
  static constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return bytes.size() >= 8 && std::equal(kSignature, kSignature + 8, bytes.data());
}

int checked_length(ByteView bytes, const std::string& source) {
  if (bytes.empty()) fail(source, "empty file: expected a PNG or JPEG image");
  if (bytes.size() > 0x7fffffffu) fail(source, "image file of ", bytes.size(), " bytes is too large");
  return static_cast<int>(bytes.size());
}

struct StbFree {
  void operator()(std::uint8_t* p) const { detail::stb_free(p); }
};

// Interleaved H×W×C to planar C×H×W.
void to_planar(const std::uint8_t* hwc, int channels, int height, int width, std::uint8_t* chw) {
  const std::size_t plane = static_cast<std::size_t>(height) * width;
  for (int k = 0; k < channels; ++k)
    for (std::size_t p = 0; p < plane; ++p) chw[k * plane + p] = hwc[p * channels + k];
}

std::vector<std::uint8_t> to_interleaved(const std::uint8_t* chw, int channels, int height, int width) {
  const std::size_t plane = static_cast<std::size_t>(height) * width;
  std::vector<std::uint8_t> hwc(plane * channels);
  for (int k = 0; k < channels; ++k)
    for (std::size_t p = 0; p < plane; ++p) hwc[p * channels + k] = chw[k * plane + p];
  return hwc;
}

void check_channels(int channels, const char* what) {
  if (channels != 1 && channels != 3)
    throw DataError(detail::cat(what, ": expected 1 or 3 channels, found ", channels));
}

// Decodes an image whose header image_info() checked into `info`; returns interleaved pixels with `channels` components.
std::unique_ptr<std::uint8_t, StbFree> decode_interleaved(ByteView bytes, const std::string& source, int channels,
                                                     const ImageInfo& info) {
  int w = 0, h = 0;
  std::unique_ptr<std::uint8_t, StbFree> data(detail::stb_load(bytes.data(), checked_length(bytes, source), &w, &h, channels));
  if (!data) fail(source, "corrupt image: ", detail::stb_failure_reason());
  if (w != info.width || h != info.height)
    fail(source, "decoded size ", w, "x", h, " differs from the header's ", info.width, "x", info.height);
  return data;
}

}  // namespace

ImageInfo image_info(ByteView bytes, const std::string& source) {
  const int length = checked_length(bytes, source);
  // Every decode starts here, so this guards stb's header and pixel decoding alike.
  // stb tries JPEG on anything starting with 0xff (fill bytes may precede SOI).
  if (bytes[0] == 0xff) check_jpeg_segments(bytes, source);
  if (is_png(bytes)) check_png_chunks(bytes, source);
  ImageInfo info;
  if (!detail::stb_info(bytes.data(), length, &info.width, &info.height, &info.channels))
    fail(source, "not a readable PNG or JPEG image: ", detail::stb_failure_reason());
  if (info.width <= 0 || info.height <= 0)
    fail(source, "bad image size in header: ", info.width, "x", info.height);
  if (static_cast<std::uint64_t>(info.width) * static_cast<std::uint64_t>(info.height) > kMaxImagePixels)
    fail(source, "image is ", info.width, "x", info.height, ", larger than the supported ", kMaxImagePixels,
         " pixels");
  return info;
}

void decode_image_into(ByteView bytes, const std::string& source, int channels, int expected_height,
                       int expected_width, std::uint8_t* out) {
  check_channels(channels, source.c_str());
  // Check the size from the header before decoding, so a wrong-size image costs nothing.
  const ImageInfo info = image_info(bytes, source);
  if (info.height != expected_height || info.width != expected_width)
    fail(source, "image is ", info.width, "x", info.height, " (WxH), expected ", expected_width, "x",
         expected_height, " like the rest of the data set");
  auto data = decode_interleaved(bytes, source, channels, info);
  to_planar(data.get(), channels, info.height, info.width, out);
}

DecodedImage decode_image(ByteView bytes, const std::string& source, int channels) {
  check_channels(channels, source.c_str());
  const ImageInfo info = image_info(bytes, source);
  auto data = decode_interleaved(bytes, source, channels, info);
  DecodedImage image{channels, info.height, info.width, {}};
  image.pixels.resize(static_cast<std::size_t>(channels) * info.height * info.width);
  to_planar(data.get(), channels, info.height, info.width, image.pixels.data());
  return image;
}

namespace {
void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}
}  // namespace

std::vector<std::uint8_t> encode_png(const std::uint8_t* chw, int channels, int height, int width) {
  check_channels(channels, "encode_png");
  const auto hwc = to_interleaved(chw, channels, height, width);
  std::vector<std::uint8_t> out;
  if (!detail::stb_write_png(append_bytes, &out, width, height, channels, hwc.data()))
    throw DataError(detail::cat("encode_png: stb_image_write failed for a ", width, "x", height, " image"));
  return out;
}

std::vector<std::uint8_t> encode_jpeg(const std::uint8_t* chw, int channels, int height, int width, int quality) {
  check_channels(channels, "encode_jpeg");
  const auto hwc = to_interleaved(chw, channels, height, width);
  std::vector<std::uint8_t> out;
  if (!detail::stb_write_jpg(append_bytes, &out, width, height, channels, hwc.data(), quality))
    throw DataError(detail::cat("encode_jpeg: stb_image_write failed for a ", width, "x", height, " image"));
  return out;
}

}  // namespace imx::data
