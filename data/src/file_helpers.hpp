#pragma once
// Small file-system helpers shared by the loaders.
#include <filesystem>
#include <string>
#include <vector>

#include "checks.hpp"
#include "imx/data/bytes.hpp"
#include "imx/data/dataset.hpp"
#include "imx/data/formats.hpp"

namespace imx::data::detail {

inline std::string join_path(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

inline bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

inline bool dir_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

inline void require_dir(const std::string& dir, const char* what) {
  if (!dir_exists(dir)) fail(dir, "folder not found: expected ", what);
}

// A class-name list file when present (with exactly expected_count names), else `fallback`.
inline std::vector<std::string> names_or(const std::string& path, std::size_t expected_count,
                                         const std::vector<std::string>& fallback) {
  if (!file_exists(path)) return fallback;
  const auto bytes = read_file(path);
  return parse_name_list(as_text(bytes), path, expected_count);
}

// "0", "1", ... for data sets without a name list.
inline std::vector<std::string> numbered_names(std::size_t count) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < count; ++i) names.push_back(std::to_string(i));
  return names;
}

// Splits of one data set share the image height and width.
inline void require_same_image_size(const Dataset& split, const Dataset& reference, const std::string& where) {
  if (split.height != reference.height || split.width != reference.width)
    fail(where, "images are ", split.width, "x", split.height, " (WxH), expected ", reference.width, "x",
         reference.height, " like the ", reference.name.empty() ? "train" : reference.name, " images");
}

}  // namespace imx::data::detail
