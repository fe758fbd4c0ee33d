// STL-10 image and label files.
#include "fuzz_common.hpp"
#include "imx/data/formats.hpp"

using namespace imx::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_only_data_errors([&] { parse_stl10_images(fuzz::view(data, size), "fuzz_X.bin"); });
  fuzz::expect_only_data_errors([&] { parse_stl10_labels(fuzz::view(data, size), "fuzz_y.bin"); });
  return 0;
}
