#pragma once
// Raw bytes: whole-file reads, big-endian fields, and gzip inflation from memory.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace imx::data {

using ByteView = std::span<const std::uint8_t>;

// The whole file; DataError naming the path when it is missing or unreadable.
std::vector<std::uint8_t> read_file(const std::string& path);
void write_file(const std::string& path, ByteView bytes);

std::uint32_t read_be32(ByteView bytes, std::size_t offset);

bool is_gzip(ByteView bytes);

// Inflates a gzip stream (several concatenated members allowed). DataError naming `source`
// when the stream is corrupt or truncated, or would inflate beyond `max_output` bytes.
std::vector<std::uint8_t> gunzip(ByteView bytes, const std::string& source,
                                 std::size_t max_output = std::size_t{1} << 33);

// gunzip when the bytes start with the gzip magic, else the bytes unchanged.
std::vector<std::uint8_t> maybe_gunzip(std::vector<std::uint8_t> bytes, const std::string& source,
                                       std::size_t max_output = std::size_t{1} << 33);

}  // namespace imx::data
