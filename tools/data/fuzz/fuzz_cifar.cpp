// CIFAR-10 and CIFAR-100 (fine and coarse) record files.
#include "fuzz_common.hpp"
#include "imx/data/formats.hpp"

using namespace imx::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (CifarLabels kind : {CifarLabels::cifar10, CifarLabels::cifar100_fine, CifarLabels::cifar100_coarse})
    fuzz::expect_only_data_errors([&] { parse_cifar(fuzz::view(data, size), "fuzz.bin", kind); });
  return 0;
}
