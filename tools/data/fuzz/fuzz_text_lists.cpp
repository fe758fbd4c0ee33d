// Class-name lists, Tiny ImageNet words.txt and val_annotations.txt.
#include "fuzz_common.hpp"
#include "imx/data/formats.hpp"

using namespace imx::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = as_text(fuzz::view(data, size));
  fuzz::expect_only_data_errors([&] { parse_name_list(text, "fuzz_names.txt"); });
  fuzz::expect_only_data_errors([&] { parse_name_list(text, "fuzz_names.txt", 10); });
  fuzz::expect_only_data_errors([&] { parse_words(text, "fuzz_words.txt"); });
  fuzz::expect_only_data_errors([&] { parse_val_annotations(text, "fuzz_val_annotations.txt"); });
  return 0;
}
