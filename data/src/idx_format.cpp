// idx files (MNIST, Fashion-MNIST): big-endian int32 header, then unsigned bytes.
#include <cstdio>

#include "checks.hpp"
#include "imx/data/formats.hpp"

namespace imx::data {
using detail::bytes_text;
using detail::fail;

namespace {

std::string hex32(std::uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

void check_magic(ByteView bytes, const std::string& source, std::uint32_t expected, const char* what) {
  const std::uint32_t magic = read_be32(bytes, 0);
  if (magic != expected) {
    const char* looks_like = magic == kIdxImagesMagic   ? " (an idx images file)"
                             : magic == kIdxLabelsMagic ? " (an idx labels file)"
                                                        : "";
    fail(source, "bad magic number: expected ", hex32(expected), " (", what, "), found ", hex32(magic),
         looks_like);
  }
}

void check_header_size(ByteView bytes, const std::string& source, std::size_t header, const char* what) {
  if (bytes.size() < header)
    fail(source, "truncated header: expected at least ", bytes_text(header), " (", what, "), found ",
         bytes_text(bytes.size()));
}

}  // namespace

Dataset parse_idx_images(ByteView bytes, const std::string& source) {
  check_header_size(bytes, source, 16, "idx images header");
  check_magic(bytes, source, kIdxImagesMagic, "idx images");
  const std::uint32_t count = read_be32(bytes, 4), rows = read_be32(bytes, 8), cols = read_be32(bytes, 12);
  if (count == 0) fail(source, "header says 0 images: expected at least one");
  // Image sides beyond 2^15 are no MNIST-style data set; the bound also keeps products in range.
  if (rows == 0 || cols == 0 || rows > 32768 || cols > 32768)
    fail(source, "bad image shape in header: expected rows and columns in 1..32768, found ", rows, "x", cols);
  const unsigned __int128 expected = 16 + static_cast<unsigned __int128>(count) * rows * cols;
  if (expected != bytes.size())
    fail(source, "wrong file size: header says ", count, " images of ", rows, "x", cols, ", expected ",
         bytes_text(static_cast<std::uint64_t>(expected)), ", found ", bytes_text(bytes.size()));
  Dataset out;
  out.name = source;
  out.channels = 1;
  out.height = static_cast<int>(rows);
  out.width = static_cast<int>(cols);
  out.pixels.assign(bytes.begin() + 16, bytes.end());
  out.labels.assign(count, -1);
  return out;
}

std::vector<std::int32_t> parse_idx_labels(ByteView bytes, const std::string& source, int num_classes) {
  check_header_size(bytes, source, 8, "idx labels header");
  check_magic(bytes, source, kIdxLabelsMagic, "idx labels");
  const std::uint32_t count = read_be32(bytes, 4);
  if (count == 0) fail(source, "header says 0 labels: expected at least one");
  if (std::uint64_t{count} + 8 != bytes.size())
    fail(source, "wrong file size: header says ", count, " labels, expected ", bytes_text(std::uint64_t{count} + 8),
         ", found ", bytes_text(bytes.size()));
  std::vector<std::int32_t> labels(count);
  for (std::size_t i = 0; i < count; ++i) {
    detail::check_label(source, bytes[8 + i], 0, static_cast<unsigned>(num_classes), i);
    labels[i] = bytes[8 + i];
  }
  return labels;
}

}  // namespace imx::data
