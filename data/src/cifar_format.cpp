// CIFAR-10/100 binary: fixed-size records, label byte(s) then the R, G and B planes (row-major 32×32),
// which is already the C×H×W layout of Dataset::pixels.
#include <algorithm>

#include "checks.hpp"
#include "imx/data/formats.hpp"

namespace imx::data {

std::size_t cifar_record_bytes(CifarLabels kind) {
  return (kind == CifarLabels::cifar10 ? 1 : 2) + kCifarImageBytes;
}

int cifar_num_classes(CifarLabels kind) {
  switch (kind) {
    case CifarLabels::cifar10: return 10;
    case CifarLabels::cifar100_fine: return 100;
    case CifarLabels::cifar100_coarse: return 20;
  }
  return 0;
}

Dataset parse_cifar(ByteView bytes, const std::string& source, CifarLabels kind) {
  const std::size_t record = cifar_record_bytes(kind);
  const bool is100 = kind != CifarLabels::cifar10;
  const std::size_t count = detail::count_records(
      bytes.size(), record, source, is100 ? "CIFAR-100 record: coarse + fine label + 3072 pixels"
                                          : "CIFAR-10 record: label + 3072 pixels");
  Dataset out;
  out.name = source;
  out.channels = 3;
  out.height = out.width = 32;
  out.pixels.resize(count * kCifarImageBytes);
  out.labels.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* rec = bytes.data() + i * record;
    if (is100) {
      detail::check_label(source, rec[0], 0, 20, i, "coarse label");
      detail::check_label(source, rec[1], 0, 100, i, "fine label");
      out.labels[i] = kind == CifarLabels::cifar100_coarse ? rec[0] : rec[1];
    } else {
      detail::check_label(source, rec[0], 0, 10, i);
      out.labels[i] = rec[0];
    }
    std::copy_n(rec + (is100 ? 2 : 1), kCifarImageBytes, out.pixels.data() + i * kCifarImageBytes);
  }
  return out;
}

}  // namespace imx::data
