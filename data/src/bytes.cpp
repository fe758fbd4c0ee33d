#include "imx/data/bytes.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "checks.hpp"

namespace imx::data {
using detail::cat;
using detail::fail;

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, "file not found");
  if (std::filesystem::is_directory(path, ec)) fail(path, "expected a file, found a directory");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail(path, "cannot open: ", std::strerror(errno));
  const std::streamoff size = in.tellg();
  if (size < 0) fail(path, "cannot determine the file size");
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (!bytes.empty() && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    fail(path, "read failed after ", in.gcount(), " of ", size, " bytes");
  return bytes;
}

void write_file(const std::string& path, ByteView bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path, "cannot create: ", std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) fail(path, "write of ", detail::bytes_text(bytes.size()), " failed");
}

std::uint32_t read_be32(ByteView bytes, std::size_t offset) {
  const std::uint8_t* p = bytes.data() + offset;
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

bool is_gzip(ByteView bytes) { return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

std::vector<std::uint8_t> gunzip(ByteView bytes, const std::string& source, std::size_t max_output) {
  if (!is_gzip(bytes)) fail(source, "not a gzip stream: expected magic 1f 8b");
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail(source, "zlib inflateInit2 failed");
  // zlib's avail_in is 32-bit; feed the input in chunks.
  std::size_t consumed = 0;
  std::vector<std::uint8_t> out;
  out.resize(std::min<std::size_t>(max_output, std::max<std::size_t>(bytes.size() * 4, 1 << 16)));
  std::size_t produced = 0;
  int status = Z_OK;
  auto finish = [&](const std::string& why) {
    inflateEnd(&zs);
    fail(source, why);
  };
  for (;;) {
    if (zs.avail_in == 0 && consumed < bytes.size()) {
      const std::size_t chunk = std::min<std::size_t>(bytes.size() - consumed, 1u << 30);
      zs.next_in = const_cast<Bytef*>(bytes.data() + consumed);
      zs.avail_in = static_cast<uInt>(chunk);
      consumed += chunk;
    }
    if (produced == out.size()) {
      if (out.size() >= max_output)
        finish(cat("inflates to more than the limit of ", detail::bytes_text(max_output)));
      out.resize(std::min(max_output, out.size() * 2));
    }
    const std::size_t room = std::min<std::size_t>(out.size() - produced, 1u << 30);
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(room);
    status = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (status == Z_STREAM_END) {
      // Another member may follow (gzip allows concatenation); trailing zero padding is not one.
      const std::size_t left = zs.avail_in + (bytes.size() - consumed);
      if (left == 0) break;
      const std::uint8_t* rest = bytes.data() + (bytes.size() - left);
      if (!is_gzip(ByteView(rest, left)))
        finish(cat("unexpected ", detail::bytes_text(left), " after the end of the gzip stream"));
      inflateReset(&zs);
      continue;
    }
    if (status == Z_BUF_ERROR && zs.avail_in == 0 && consumed == bytes.size())
      finish(cat("truncated gzip stream: input ended after ", detail::bytes_text(bytes.size()),
                 " before the end-of-stream marker"));
    if (status != Z_OK && status != Z_BUF_ERROR)
      finish(cat("corrupt gzip stream: ", zs.msg ? std::string(zs.msg) : cat("zlib status ", status)));
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

std::vector<std::uint8_t> maybe_gunzip(std::vector<std::uint8_t> bytes, const std::string& source,
                                       std::size_t max_output) {
  if (!is_gzip(bytes)) return bytes;
  return gunzip(bytes, source, max_output);
}

}  // namespace imx::data
