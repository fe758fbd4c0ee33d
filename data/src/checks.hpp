#pragma once
// Internal helpers shared by the parsers: message building and the throw that names the source.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "imx/data/error.hpp"

namespace imx::data::detail {

template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// Throws DataError("<source>: <what>").
template <class... Parts>
[[noreturn]] void fail(const std::string& source, const Parts&... what) {
  throw DataError(cat(source, ": ", what...));
}

// "8 bytes" / "1 byte", for sizes in messages.
inline std::string bytes_text(std::uint64_t n) { return cat(n, n == 1 ? " byte" : " bytes"); }

// Number of fixed-size records in a headerless file; the size must be a positive multiple.
inline std::size_t count_records(std::uint64_t size, std::uint64_t record_bytes,
                                 const std::string& source, const char* record_what) {
  if (size == 0) fail(source, "empty file: expected records of ", bytes_text(record_bytes), " (", record_what, ")");
  if (size % record_bytes != 0)
    fail(source, "wrong file size: expected a multiple of ", bytes_text(record_bytes), " (", record_what,
         "), found ", bytes_text(size), " = ", size / record_bytes, " records + ", bytes_text(size % record_bytes));
  return static_cast<std::size_t>(size / record_bytes);
}

// A label byte must lie in [first, first + num_classes).
inline void check_label(const std::string& source, unsigned value, unsigned first, unsigned num_classes,
                        std::size_t index, const char* what = "label") {
  if (value < first || value >= first + num_classes)
    fail(source, what, " ", value, " of record ", index, " out of range: expected ", first, "..",
         first + num_classes - 1);
}

}  // namespace imx::data::detail
