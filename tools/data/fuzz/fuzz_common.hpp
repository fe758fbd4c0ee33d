#pragma once
// Shared by the libFuzzer targets: run a parser on the input, accept DataError (the parsers'
// documented way to reject input) and let anything else — a crash, a sanitizer report, another
// exception type — end the run as a finding.
#include <cstddef>
#include <cstdint>

#include "imx/data/bytes.hpp"
#include "imx/data/error.hpp"

namespace imx::data::fuzz {

template <class Parse>
void expect_only_data_errors(Parse&& parse) {
  try {
    parse();
  } catch (const DataError&) {
  }
}

inline ByteView view(const std::uint8_t* data, std::size_t size) { return {data, size}; }

}  // namespace imx::data::fuzz
