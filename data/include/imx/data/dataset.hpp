#pragma once
// A dataset held in memory: uint8 images in N×C×H×W order plus one label per image.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imx::data {

struct Dataset {
  std::string name;  // e.g. "cifar10:/data/cifar-10-batches-bin (train)"; used in messages
  int channels = 0, height = 0, width = 0;
  std::vector<std::uint8_t> pixels;     // N×C×H×W, row-major planes; empty when `encoded` is used
  std::vector<std::int32_t> labels;     // one per image; -1 = unlabeled
  std::vector<std::string> class_names; // index = label

  // Deferred decoding (LoadOptions::decode_images = false, image-file kinds only): the PNG/JPEG
  // bytes of each image and the file it came from; the loader's workers decode them.
  std::vector<std::vector<std::uint8_t>> encoded;
  std::vector<std::string> encoded_sources;

  std::size_t size() const { return labels.size(); }
  std::size_t image_bytes() const {
    return static_cast<std::size_t>(channels) * static_cast<std::size_t>(height) *
           static_cast<std::size_t>(width);
  }
  bool is_encoded() const { return !encoded.empty(); }

  // Writes image i (C×H×W uint8) to `out`, decoding it first when the dataset is encoded.
  // Throws DataError when i is out of range or the stored file fails to decode.
  void copy_image(std::size_t i, std::uint8_t* out) const;

  // Appends `other` (same shape and class names; both decoded) — e.g. CIFAR's five train files.
  void append(const Dataset& other);
  // Images [begin, end) as a data set of their own (decoded or encoded alike): one rank's shard.
  Dataset range(std::size_t begin, std::size_t end) const;

  // Number of images per label 0..class_names.size()-1; unlabeled images are not counted.
  std::vector<std::size_t> label_histogram() const;

  // Throws DataError unless sizes agree (pixels or encoded match labels) and every label is
  // -1 or a valid class index.
  void check_consistent() const;
};

struct Splits {
  Dataset train, test;
  std::optional<Dataset> unlabeled;     // STL-10 unlabeled_X.bin, Tiny ImageNet test/images
  std::vector<std::vector<int>> folds;  // STL-10 fold_indices.txt: indices into `train`
};

}  // namespace imx::data
