// STL-10 fold_indices.txt; the first byte picks the train-split size the indices must fit.
#include "fuzz_common.hpp"
#include "imx/data/formats.hpp"

using namespace imx::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t train_count = data[0] * 40u;  // 0 .. 10200, around the real 5000
  fuzz::expect_only_data_errors(
      [&] { parse_fold_indices(as_text(fuzz::view(data + 1, size - 1)), "fuzz_folds.txt", train_count); });
  return 0;
}
