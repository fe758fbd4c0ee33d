#include "engine/npy.h"

#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <type_traits>

namespace imx {
namespace {

static_assert(std::endian::native == std::endian::little, "npy: only little-endian hosts are supported");

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("npy: " + path + ": " + what);
}

// '<u1' and '|i1'-style spellings NumPy also accepts are mapped to the names used here.
std::string normalize_dtype(std::string d) {
  if (d == "<u1" || d == "u1" || d == "|u1") return "|u1";
  if (d == "f4") return "<f4";
  if (d == "f8") return "<f8";
  if (d == "i4") return "<i4";
  if (d == "i8") return "<i8";
  return d;
}

// A tiny reader for the Python dict literal in the header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  void parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      skip_space();
      if (key == "descr") {
        descr = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = boolean();
        have_order = true;
      } else if (key == "shape") {
        shape = tuple();
        have_shape = true;
      } else {
        bad("unexpected header key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') ++pos_;
    }
    if (!have_descr || !have_order || !have_shape)
      bad("header lacks one of 'descr', 'fortran_order', 'shape'");
  }

 private:
  [[noreturn]] void bad(const std::string& what) {
    fail(path_, "malformed header (" + what + "): " + std::string(s_));
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  char peek() {
    if (pos_ >= s_.size()) bad("unexpected end");
    return s_[pos_];
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string quoted() {
    skip_space();
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    const std::size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.substr(pos_, 4) == "True") return pos_ += 4, true;
    if (s_.substr(pos_, 5) == "False") return pos_ += 5, false;
    bad("expected True or False");
  }
  std::vector<int64_t> tuple() {
    expect('(');
    std::vector<int64_t> dims;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      int64_t v = 0;
      bool any = false;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (v > (INT64_MAX - 9) / 10) bad("dimension too large");
        v = v * 10 + (s_[pos_++] - '0');
        any = true;
      }
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long suffix
      if (!any) bad("expected a non-negative integer dimension");
      dims.push_back(v);
      skip_space();
      if (peek() == ',') ++pos_;
    }
    ++pos_;
    return dims;
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

uint32_t read_le(const unsigned char* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string format_shape(std::span<const int64_t> shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

std::size_t NpyArray::npy_item_size(std::string_view dtype) {
  if (dtype == "<f4" || dtype == "<i4") return 4;
  if (dtype == "<f8" || dtype == "<i8") return 8;
  if (dtype == "|u1") return 1;
  throw std::runtime_error("npy: unsupported dtype '" + std::string(dtype) +
                           "'; supported: '<f4', '<f8', '|u1', '<i4', '<i8'");
}

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string NpyArray::shape_string() const { return format_shape(shape); }

template <class T>
const T* NpyArray::as() const {
  const char* want = std::is_same_v<T, float>     ? "<f4"
                     : std::is_same_v<T, double>  ? "<f8"
                     : std::is_same_v<T, uint8_t> ? "|u1"
                     : std::is_same_v<T, int32_t> ? "<i4"
                                                  : "<i8";
  if (dtype != want)
    throw std::runtime_error("npy: array has dtype '" + dtype + "', requested '" + want + "'");
  return reinterpret_cast<const T*>(data.data());
}
template const float* NpyArray::as<float>() const;
template const double* NpyArray::as<double>() const;
template const uint8_t* NpyArray::as<uint8_t>() const;
template const int32_t* NpyArray::as<int32_t>() const;
template const int64_t* NpyArray::as<int64_t>() const;

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);

  unsigned char pre[12] = {};
  in.read(reinterpret_cast<char*>(pre), 8);
  if (in.gcount() < 8 || std::memcmp(pre, kMagic, kMagicLen) != 0)
    fail(path, "not a .npy file (bad magic; expected \\x93NUMPY)");
  const int major = pre[6];
  if (major < 1 || major > 3)
    fail(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(pre[7]));
  const int len_bytes = major == 1 ? 2 : 4;
  in.read(reinterpret_cast<char*>(pre + 8), len_bytes);
  if (in.gcount() < len_bytes) fail(path, "truncated header");
  const uint64_t header_len = read_le(pre + 8, len_bytes);
  const uint64_t data_offset = 8 + len_bytes + header_len;
  if (data_offset > file_size) fail(path, "truncated header (declares " + std::to_string(header_len) + " bytes)");
  std::string header(header_len, '\0');
  in.read(header.data(), std::streamsize(header_len));

  std::string descr;
  bool fortran = false;
  NpyArray arr;
  HeaderParser(header, path).parse(descr, fortran, arr.shape);
  arr.dtype = normalize_dtype(descr);
  if (arr.dtype.size() == 3 && arr.dtype[0] == '>')
    fail(path, "big-endian dtype '" + descr + "' is not supported (expected little-endian)");
  std::size_t item;
  try {
    item = NpyArray::npy_item_size(arr.dtype);
  } catch (const std::runtime_error&) {
    fail(path, "unsupported dtype '" + descr + "'; supported: '<f4', '<f8', '|u1', '<i4', '<i8'");
  }
  if (fortran) fail(path, "Fortran-order arrays are not supported (save with C order)");

  uint64_t numel = 1;
  for (int64_t d : arr.shape) {
    if (d != 0 && numel > UINT64_MAX / 16 / uint64_t(d)) fail(path, "shape " + arr.shape_string() + " too large");
    numel *= uint64_t(d);
  }
  const uint64_t want = numel * item, have = file_size - data_offset;
  if (have != want)
    fail(path, std::string(have < want ? "truncated data" : "size mismatch") + ": shape " + arr.shape_string() +
                   " of '" + arr.dtype + "' needs " + std::to_string(want) + " data bytes, file has " +
                   std::to_string(have));
  arr.data.resize(want);
  in.read(reinterpret_cast<char*>(arr.data.data()), std::streamsize(want));
  if (uint64_t(in.gcount()) != want) fail(path, "read error");
  return arr;
}

void write_npy(const std::string& path, std::string_view dtype_in, std::span<const int64_t> shape,
               const void* data) {
  const std::string dtype = normalize_dtype(std::string(dtype_in));
  std::size_t item;
  try {
    item = NpyArray::npy_item_size(dtype);
  } catch (const std::runtime_error& e) {
    fail(path, e.what());
  }
  uint64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(path, "negative dimension in shape " + format_shape(shape));
    numel *= uint64_t(d);
  }
  std::string header = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + format_shape(shape) + ", }";
  // Pad with spaces and a final newline so the data starts at a multiple of 64 bytes.
  // Version 1.0 stores the header length in 2 bytes; longer headers need version 2.0.
  const bool v1 = (10 + header.size() + 1 + 63) / 64 * 64 - 10 <= 65535;
  const std::size_t prefix = v1 ? 10 : 12;
  const std::size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot open '" + tmp + "' for writing");
    out.write(kMagic, kMagicLen);
    const unsigned char version[2] = {static_cast<unsigned char>(v1 ? 1 : 2), 0};
    out.write(reinterpret_cast<const char*>(version), 2);
    const uint64_t hl = header.size();
    const unsigned char len[4] = {static_cast<unsigned char>(hl), static_cast<unsigned char>(hl >> 8),
                                  static_cast<unsigned char>(hl >> 16), static_cast<unsigned char>(hl >> 24)};
    out.write(reinterpret_cast<const char*>(len), v1 ? 2 : 4);
    out.write(header.data(), std::streamsize(header.size()));
    out.write(static_cast<const char*>(data), std::streamsize(numel * item));
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      fail(path, "write error (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(path, "cannot rename temporary file into place: " + ec.message());
  }
}

}  // namespace imx
