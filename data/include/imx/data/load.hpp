#pragma once
// Loading a data set named as KIND:PATH (e.g. "cifar10:/data/cifar-10-batches-bin").
#include <string>
#include <vector>

#include "imx/data/dataset.hpp"

namespace imx::data {

// The real Fashion-MNIST, installed by Debian's dataset-fashion-mnist package.
inline constexpr const char* kDefaultDataset = "fashion-mnist:/usr/share/datasets/fashion-mnist";

struct DatasetSpec {
  std::string kind, path;
};

// Valid kinds: cifar10 cifar100 cifar100-coarse stl10 mnist fashion-mnist tinyimagenet folder.
const std::vector<std::string>& dataset_kinds();

// Splits at the first ':'; DataError for an empty part or an unknown kind (listing the valid ones).
DatasetSpec parse_spec(const std::string& spec);

struct LoadOptions {
  // Image-file kinds (tinyimagenet, folder): decode every file now (false: check each header
  // and keep the compressed bytes; the Loader's workers decode them).
  bool decode_images = true;
  // STL-10 unlabeled_X.bin (2.7 GB) and Tiny ImageNet test/images.
  bool load_unlabeled = true;
  unsigned threads = 0;  // threads for reading and decoding image files; 0 = all cores
};

Splits load_dataset(const std::string& spec, const LoadOptions& options = {});

// The per-kind loaders behind load_dataset; `dir` is the folder holding the files.
Splits load_cifar10(const std::string& dir);
Splits load_cifar100(const std::string& dir, bool coarse_labels);
Splits load_stl10(const std::string& dir, const LoadOptions& options = {});
Splits load_idx(const std::string& dir, const std::vector<std::string>& class_names);
Splits load_tinyimagenet(const std::string& dir, const LoadOptions& options = {});
Splits load_image_folder(const std::string& dir, const LoadOptions& options = {});

// Built-in class names (used when a data set ships none).
const std::vector<std::string>& fashion_mnist_class_names();
const std::vector<std::string>& mnist_class_names();
const std::vector<std::string>& cifar10_class_names();
const std::vector<std::string>& stl10_class_names();

}  // namespace imx::data
