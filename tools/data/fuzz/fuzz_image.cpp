// PNG/JPEG header reading and decoding (stb_image, instrumented with the rest).
#include "fuzz_common.hpp"
#include "imx/data/image_codec.hpp"

using namespace imx::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes = fuzz::view(data, size);
  fuzz::expect_only_data_errors([&] { image_info(bytes, "fuzz.img"); });
  for (int channels : {1, 3}) fuzz::expect_only_data_errors([&] { decode_image(bytes, "fuzz.img", channels); });
  return 0;
}
