// idx images and labels, gzipped or not (inflation capped at 16 MiB).
#include "fuzz_common.hpp"
#include "imx/data/formats.hpp"

using namespace imx::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_only_data_errors([&] {
    const auto bytes = maybe_gunzip(std::vector<std::uint8_t>(data, data + size), "fuzz.idx", std::size_t{1} << 24);
    fuzz::expect_only_data_errors([&] { parse_idx_images(bytes, "fuzz-images"); });
    fuzz::expect_only_data_errors([&] { parse_idx_labels(bytes, "fuzz-labels", 10); });
  });
  return 0;
}
