// NumPy .npy files (format versions 1.0, 2.0 and 3.0): read and write C-order arrays of
// little-endian float32/float64 ('<f4', '<f8'); reading also accepts '|u1', '<i4' and '<i8'.
// Every error is a std::runtime_error whose message names the file and what was wrong.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imx {

struct NpyArray {
  std::string dtype;           // normalized descr: "<f4", "<f8", "|u1", "<i4" or "<i8"
  std::vector<int64_t> shape;  // empty for a 0-d array (one element)
  std::vector<std::byte> data; // numel() * item_size() bytes, C order

  int64_t numel() const;
  std::size_t item_size() const { return npy_item_size(dtype); }
  std::string shape_string() const;  // "(2, 3)", "(5,)", "()" as NumPy prints shapes

  // Typed view; throws unless dtype matches T (float "<f4", double "<f8", uint8_t "|u1",
  // int32_t "<i4", int64_t "<i8").
  template <class T>
  const T* as() const;

  static std::size_t npy_item_size(std::string_view dtype);
};

// Reads a whole .npy file.
NpyArray read_npy(const std::string& path);

// Writes a .npy file (version 1.0, or 2.0 if the header needs it) atomically: to a temporary
// file in the same directory, then renamed over `path`. dtype: "<f4", "<f8", "|u1", "<i4", "<i8".
void write_npy(const std::string& path, std::string_view dtype, std::span<const int64_t> shape,
               const void* data);

}  // namespace imx
