// STL-10 binary: each image is three 96×96 planes stored column-major (the pixel at row r,
// column c of channel k is byte k·9216 + c·96 + r); we transpose to row-major planes.
#include <unordered_set>

#include "checks.hpp"
#include "imx/data/formats.hpp"
#include "text_util.hpp"

namespace imx::data {
using detail::fail;

Dataset parse_stl10_images(ByteView bytes, const std::string& source) {
  const std::size_t count =
      detail::count_records(bytes.size(), kStl10ImageBytes, source, "STL-10 image: 3 planes of 96x96");
  constexpr int side = kStl10Side;
  Dataset out;
  out.name = source;
  out.channels = 3;
  out.height = out.width = side;
  out.pixels.resize(count * kStl10ImageBytes);
  out.labels.assign(count, -1);
  for (std::size_t i = 0; i < count; ++i) {
    for (int k = 0; k < 3; ++k) {
      const std::uint8_t* plane = bytes.data() + i * kStl10ImageBytes + k * side * side;
      std::uint8_t* dst = out.pixels.data() + i * kStl10ImageBytes + k * side * side;
      for (int c = 0; c < side; ++c)
        for (int r = 0; r < side; ++r) dst[r * side + c] = plane[c * side + r];
    }
  }
  return out;
}

std::vector<std::int32_t> parse_stl10_labels(ByteView bytes, const std::string& source) {
  const std::size_t count = detail::count_records(bytes.size(), 1, source, "one label byte per image");
  std::vector<std::int32_t> labels(count);
  for (std::size_t i = 0; i < count; ++i) {
    detail::check_label(source, bytes[i], 1, 10, i);
    labels[i] = bytes[i] - 1;
  }
  return labels;
}

std::vector<std::vector<int>> parse_fold_indices(std::string_view text, const std::string& source,
                                                 std::size_t train_count, int num_folds) {
  const auto lines = detail::nonblank_lines(text);
  if (static_cast<int>(lines.size()) != num_folds)
    fail(source, "expected ", num_folds, " folds (non-blank lines), found ", lines.size());
  std::vector<std::vector<int>> folds;
  for (const auto& line : lines) {
    std::vector<int> fold;
    std::unordered_set<int> seen;
    for (std::string_view token : detail::split_fields(line.text, " \t", true)) {
      std::uint64_t value = 0;
      bool ok = token.size() <= 12;
      for (char ch : token) {
        ok = ok && ch >= '0' && ch <= '9';
        value = value * 10 + static_cast<unsigned>(ch - '0');
      }
      if (!ok) fail(source, "line ", line.number, ": expected a non-negative index, found '", token, "'");
      if (value >= train_count)
        fail(source, "line ", line.number, ": index ", value, " out of range: expected 0..", train_count - 1,
             " (the train split has ", train_count, " images)");
      if (!seen.insert(static_cast<int>(value)).second)
        fail(source, "line ", line.number, ": index ", value, " appears twice in the same fold");
      fold.push_back(static_cast<int>(value));
    }
    folds.push_back(std::move(fold));
  }
  return folds;
}

}  // namespace imx::data
