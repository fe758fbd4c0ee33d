// Folder loaders for the binary formats: CIFAR-10/100, STL-10 and idx (MNIST-style).
#include "checks.hpp"
#include "file_helpers.hpp"
#include "imx/data/load.hpp"

namespace imx::data {
using detail::fail;
using detail::join_path;

namespace {

Dataset read_cifar(const std::string& dir, const std::string& file, CifarLabels kind) {
  const std::string path = join_path(dir, file);
  return parse_cifar(read_file(path), path, kind);
}

// Attaches labels read from a separate file, checking the counts agree.
void attach_labels(Dataset& images, std::vector<std::int32_t> labels, const std::string& labels_path) {
  if (labels.size() != images.size())
    fail(labels_path, "holds ", labels.size(), " labels, expected ", images.size(), " (one per image in ",
         images.name, ")");
  images.labels = std::move(labels);
}

}  // namespace

Splits load_cifar10(const std::string& dir) {
  detail::require_dir(dir, "the CIFAR-10 binary folder (data_batch_1.bin ... test_batch.bin)");
  const auto names = detail::names_or(join_path(dir, "batches.meta.txt"), 10, cifar10_class_names());
  Splits splits;
  for (int b = 1; b <= 5; ++b)
    splits.train.append(read_cifar(dir, "data_batch_" + std::to_string(b) + ".bin", CifarLabels::cifar10));
  splits.test = read_cifar(dir, "test_batch.bin", CifarLabels::cifar10);
  splits.train.class_names = splits.test.class_names = names;
  return splits;
}

Splits load_cifar100(const std::string& dir, bool coarse_labels) {
  detail::require_dir(dir, "the CIFAR-100 binary folder (train.bin, test.bin)");
  const CifarLabels kind = coarse_labels ? CifarLabels::cifar100_coarse : CifarLabels::cifar100_fine;
  const std::size_t classes = static_cast<std::size_t>(cifar_num_classes(kind));
  const auto names = detail::names_or(join_path(dir, coarse_labels ? "coarse_label_names.txt" : "fine_label_names.txt"),
                                      classes, detail::numbered_names(classes));
  Splits splits;
  splits.train = read_cifar(dir, "train.bin", kind);
  splits.test = read_cifar(dir, "test.bin", kind);
  splits.train.class_names = splits.test.class_names = names;
  return splits;
}

Splits load_stl10(const std::string& dir, const LoadOptions& options) {
  detail::require_dir(dir, "the STL-10 binary folder (train_X.bin, train_y.bin, test_X.bin, test_y.bin, ...)");
  const auto names = detail::names_or(join_path(dir, "class_names.txt"), 10, stl10_class_names());
  auto read_split = [&](const std::string& prefix) {
    const std::string images_path = join_path(dir, prefix + "_X.bin");
    Dataset images = parse_stl10_images(read_file(images_path), images_path);
    const std::string labels_path = join_path(dir, prefix + "_y.bin");
    attach_labels(images, parse_stl10_labels(read_file(labels_path), labels_path), labels_path);
    images.class_names = names;
    return images;
  };
  Splits splits;
  splits.train = read_split("train");
  splits.test = read_split("test");
  const std::string unlabeled_path = join_path(dir, "unlabeled_X.bin");
  if (options.load_unlabeled && detail::file_exists(unlabeled_path)) {
    splits.unlabeled = parse_stl10_images(read_file(unlabeled_path), unlabeled_path);
    splits.unlabeled->class_names = names;
  }
  const std::string folds_path = join_path(dir, "fold_indices.txt");
  if (detail::file_exists(folds_path))
    splits.folds = parse_fold_indices(as_text(read_file(folds_path)), folds_path, splits.train.size());
  return splits;
}

namespace {

// "<stem>" or "<stem>.gz", whichever exists (the raw file wins); the bytes are inflated by
// content, not by name.
std::vector<std::uint8_t> read_idx_file(const std::string& dir, const std::string& stem, std::string& path) {
  path = join_path(dir, stem);
  if (!detail::file_exists(path)) {
    path += ".gz";
    if (!detail::file_exists(path))
      fail(join_path(dir, stem), "file not found (nor ", stem, ".gz): expected an idx file");
  }
  return maybe_gunzip(read_file(path), path);
}

Dataset read_idx_split(const std::string& dir, const std::string& prefix, const std::vector<std::string>& names) {
  std::string images_path, labels_path;
  Dataset images = parse_idx_images(read_idx_file(dir, prefix + "-images-idx3-ubyte", images_path), images_path);
  images.name = images_path;
  const auto labels = parse_idx_labels(read_idx_file(dir, prefix + "-labels-idx1-ubyte", labels_path), labels_path,
                                       static_cast<int>(names.size()));
  attach_labels(images, labels, labels_path);
  images.class_names = names;
  return images;
}

}  // namespace

Splits load_idx(const std::string& dir, const std::vector<std::string>& class_names) {
  detail::require_dir(dir, "an idx folder (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...)");
  Splits splits;
  splits.train = read_idx_split(dir, "train", class_names);
  splits.test = read_idx_split(dir, "t10k", class_names);
  detail::require_same_image_size(splits.test, splits.train, splits.test.name);
  return splits;
}

}  // namespace imx::data
