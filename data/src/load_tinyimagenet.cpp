// Tiny ImageNet (tiny-imagenet-200/): wnids.txt, words.txt, train/<wnid>/images/*.JPEG,
// val/images/*.JPEG labelled by val/val_annotations.txt, test/images/*.JPEG (unlabeled).
// Every image is decoded to RGB (some are grayscale JPEGs).
#include <map>
#include <set>

#include "checks.hpp"
#include "file_helpers.hpp"
#include "image_files.hpp"
#include "imx/data/load.hpp"

namespace imx::data {
using detail::fail;
using detail::join_path;

namespace {

// The first synonym of each wnid's words.txt entry ("goldfish, Carassius auratus" -> "goldfish").
std::vector<std::string> class_names_from_words(const std::string& path, const std::vector<std::string>& wnids) {
  const auto words = parse_words(as_text(read_file(path)), path);
  std::vector<std::string> names;
  for (const auto& wnid : wnids) {
    const auto it = words.find(wnid);
    if (it == words.end()) fail(path, "no entry for wnid '", wnid, "' listed in wnids.txt");
    names.push_back(it->second.substr(0, it->second.find(',')));
  }
  return names;
}

std::vector<detail::ImageFile> train_files(const std::string& dir, const std::vector<std::string>& wnids) {
  const std::string train_dir = join_path(dir, "train");
  detail::require_dir(train_dir, "train/<wnid>/images/ folders");
  const std::set<std::string> known(wnids.begin(), wnids.end());
  for (const auto& entry : detail::sorted_entries(train_dir))
    if (!known.count(entry.path().filename().string()))
      fail(entry.path().string(), "unexpected entry: not a wnid listed in ", join_path(dir, "wnids.txt"));
  std::vector<detail::ImageFile> files;
  for (std::size_t label = 0; label < wnids.size(); ++label) {
    const std::string images = join_path(join_path(train_dir, wnids[label]), "images");
    detail::require_dir(images, "the train images of a wnid listed in wnids.txt");
    for (auto& path : detail::list_image_files(images))
      files.push_back({std::move(path), static_cast<std::int32_t>(label)});
  }
  return files;
}

std::vector<detail::ImageFile> val_files(const std::string& dir, const std::vector<std::string>& wnids) {
  const std::string annotations_path = join_path(dir, "val/val_annotations.txt");
  const auto annotations = parse_val_annotations(as_text(read_file(annotations_path)), annotations_path);
  std::map<std::string, std::int32_t> label_of;
  for (std::size_t i = 0; i < wnids.size(); ++i) label_of[wnids[i]] = static_cast<std::int32_t>(i);
  const std::string images = join_path(dir, "val/images");
  detail::require_dir(images, "the validation images named in val_annotations.txt");
  std::set<std::string> present;
  for (const auto& path : detail::list_image_files(images))
    present.insert(std::filesystem::path(path).filename().string());
  std::vector<detail::ImageFile> files;
  for (const auto& [file, wnid] : annotations) {
    const auto label = label_of.find(wnid);
    if (label == label_of.end())
      fail(annotations_path, "file '", file, "' has wnid '", wnid, "', which wnids.txt does not list");
    if (!present.erase(file)) fail(join_path(images, file), "file not found: listed in ", annotations_path);
    files.push_back({join_path(images, file), label->second});
  }
  if (!present.empty())
    fail(join_path(images, *present.begin()), "image not listed in ", annotations_path, " (", present.size(),
         " unlisted in all)");
  return files;
}

}  // namespace

Splits load_tinyimagenet(const std::string& dir, const LoadOptions& options) {
  detail::require_dir(dir, "the tiny-imagenet-200 folder (wnids.txt, train/, val/)");
  const std::string wnids_path = join_path(dir, "wnids.txt");
  const auto wnids = parse_name_list(as_text(read_file(wnids_path)), wnids_path);
  const std::string words_path = join_path(dir, "words.txt");
  const auto names = detail::file_exists(words_path) ? class_names_from_words(words_path, wnids) : wnids;
  Splits splits;
  splits.train = detail::load_image_files(train_files(dir, wnids), 3, names, options);
  splits.test = detail::load_image_files(val_files(dir, wnids), 3, names, options);
  detail::require_same_image_size(splits.test, splits.train, join_path(dir, "val/images"));
  const std::string test_images = join_path(dir, "test/images");
  if (options.load_unlabeled && detail::dir_exists(test_images)) {
    std::vector<detail::ImageFile> files;
    for (auto& path : detail::list_image_files(test_images)) files.push_back({std::move(path), -1});
    splits.unlabeled = detail::load_image_files(files, 3, names, options);
    detail::require_same_image_size(*splits.unlabeled, splits.train, test_images);
  }
  return splits;
}

}  // namespace imx::data
