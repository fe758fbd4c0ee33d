#pragma once
// Line and field splitting for the small text files (class names, folds, Tiny ImageNet lists).
#include <string_view>
#include <vector>

namespace imx::data::detail {

struct TextLine {
  int number;             // 1-based, for messages
  std::string_view text;  // without the newline and trailing whitespace / '\r'
};

// The non-blank lines of `text`.
inline std::vector<TextLine> nonblank_lines(std::string_view text) {
  std::vector<TextLine> lines;
  int number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    const std::size_t last = line.find_last_not_of(" \t\r");
    if (last == std::string_view::npos) continue;
    lines.push_back({number, line.substr(0, last + 1)});
  }
  return lines;
}

// Fields separated by any of `separators`; runs of separators count as one when `merge` is set.
inline std::vector<std::string_view> split_fields(std::string_view line, std::string_view separators, bool merge) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  for (;;) {
    if (merge) {
      pos = line.find_first_not_of(separators, pos);
      if (pos == std::string_view::npos) break;
    }
    std::size_t end = line.find_first_of(separators, pos);
    if (end == std::string_view::npos) end = line.size();
    fields.push_back(line.substr(pos, end - pos));
    if (end == line.size()) break;
    pos = end + 1;
  }
  return fields;
}

}  // namespace imx::data::detail
