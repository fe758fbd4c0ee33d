// Small text files: class-name lists, Tiny ImageNet's words.txt and val_annotations.txt.
#include <set>

#include "checks.hpp"
#include "imx/data/formats.hpp"
#include "text_util.hpp"

namespace imx::data {
using detail::fail;

std::vector<std::string> parse_name_list(std::string_view text, const std::string& source,
                                         std::size_t expected_count) {
  std::vector<std::string> names;
  std::set<std::string_view> seen;
  for (const auto& line : detail::nonblank_lines(text)) {
    if (!seen.insert(line.text).second) fail(source, "line ", line.number, ": '", line.text, "' is listed twice");
    names.emplace_back(line.text);
  }
  if (names.empty()) fail(source, "expected a list of names, one per line, found none");
  if (expected_count != 0 && names.size() != expected_count)
    fail(source, "expected ", expected_count, " names (non-blank lines), found ", names.size());
  return names;
}

std::map<std::string, std::string> parse_words(std::string_view text, const std::string& source) {
  std::map<std::string, std::string> words;
  for (const auto& line : detail::nonblank_lines(text)) {
    const std::size_t tab = line.text.find('\t');
    if (tab == std::string_view::npos || tab == 0)
      fail(source, "line ", line.number, ": expected 'wnid<TAB>description', found '", line.text, "'");
    words.emplace(std::string(line.text.substr(0, tab)), std::string(line.text.substr(tab + 1)));
  }
  return words;
}

std::vector<std::pair<std::string, std::string>> parse_val_annotations(std::string_view text,
                                                                       const std::string& source) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::set<std::string_view> seen;
  for (const auto& line : detail::nonblank_lines(text)) {
    const auto fields = detail::split_fields(line.text, "\t", false);
    if (fields.size() < 2 || fields[0].empty() || fields[1].empty())
      fail(source, "line ", line.number, ": expected 'file<TAB>wnid<TAB>box...', found '", line.text, "'");
    if (!seen.insert(fields[0]).second) fail(source, "line ", line.number, ": file '", fields[0], "' is listed twice");
    entries.emplace_back(std::string(fields[0]), std::string(fields[1]));
  }
  if (entries.empty()) fail(source, "expected one line per validation image, found none");
  return entries;
}

}  // namespace imx::data
