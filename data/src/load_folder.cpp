// A folder of class sub-folders of PNG/JPEG images: ROOT/<class>/<image>. When ROOT holds a
// train/ folder, ROOT/train and ROOT/test (optional) are two such trees; otherwise ROOT is the
// train split and the test split is empty. Labels follow the sorted train class-folder names.
#include <algorithm>

#include "checks.hpp"
#include "file_helpers.hpp"
#include "image_files.hpp"
#include "imx/data/load.hpp"

namespace imx::data {
using detail::fail;
using detail::join_path;

namespace {

std::vector<std::string> class_folders(const std::string& root) {
  std::vector<std::string> names;
  for (const auto& entry : detail::sorted_entries(root)) {
    std::error_code ec;
    if (!entry.is_directory(ec))
      fail(entry.path().string(), "unexpected file: expected only class sub-folders in ", root);
    names.push_back(entry.path().filename().string());
  }
  if (names.empty()) fail(root, "holds no class sub-folders: expected ", root, "/<class>/<image>.png|jpg");
  return names;
}

// The images of every class folder under `root`, labelled by position in `classes`.
std::vector<detail::ImageFile> tree_files(const std::string& root, const std::vector<std::string>& classes) {
  std::vector<detail::ImageFile> files;
  for (const auto& folder : class_folders(root)) {
    const auto it = std::find(classes.begin(), classes.end(), folder);
    if (it == classes.end())
      fail(join_path(root, folder), "class folder not present in the train split: expected one of the train classes");
    for (auto& path : detail::list_image_files(join_path(root, folder)))
      files.push_back({std::move(path), static_cast<std::int32_t>(it - classes.begin())});
  }
  return files;
}

}  // namespace

Splits load_image_folder(const std::string& dir, const LoadOptions& options) {
  detail::require_dir(dir, "a folder of class sub-folders of images");
  const bool has_splits = detail::dir_exists(join_path(dir, "train"));
  const std::string train_root = has_splits ? join_path(dir, "train") : dir;
  const std::string test_root = join_path(dir, "test");
  const auto classes = class_folders(train_root);
  Splits splits;
  splits.train = detail::load_image_files(tree_files(train_root, classes), 0, classes, options);
  if (has_splits && detail::dir_exists(test_root)) {
    splits.test = detail::load_image_files(tree_files(test_root, classes), splits.train.channels, classes, options);
    detail::require_same_image_size(splits.test, splits.train, test_root);
  } else {
    splits.test.class_names = classes;
    splits.test.channels = splits.train.channels;
    splits.test.height = splits.train.height;
    splits.test.width = splits.train.width;
  }
  return splits;
}

}  // namespace imx::data
