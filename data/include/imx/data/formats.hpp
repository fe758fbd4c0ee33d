#pragma once
// Parsers of the dataset file formats, on in-memory bytes (the file-reading loaders in load.hpp
// are thin wrappers; the fuzz targets call these directly). `source` names the file in messages.
// Every parser validates sizes, magic numbers and label ranges and throws DataError otherwise.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imx/data/bytes.hpp"
#include "imx/data/dataset.hpp"

namespace imx::data {

// ---- idx (MNIST, Fashion-MNIST); bytes already inflated ----
inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension

// One-channel images; labels are all -1.
Dataset parse_idx_images(ByteView bytes, const std::string& source);
// Labels must be < num_classes.
std::vector<std::int32_t> parse_idx_labels(ByteView bytes, const std::string& source, int num_classes);

// ---- CIFAR binary: records of label byte(s) + 3072 pixel bytes (R, G, B planes of 32×32) ----
enum class CifarLabels { cifar10, cifar100_fine, cifar100_coarse };
inline constexpr std::size_t kCifarImageBytes = 3 * 32 * 32;
std::size_t cifar_record_bytes(CifarLabels kind);  // 3073 or 3074
int cifar_num_classes(CifarLabels kind);           // 10, 100 or 20
// Both CIFAR-100 label bytes are range-checked whichever one is kept.
Dataset parse_cifar(ByteView bytes, const std::string& source, CifarLabels kind);

// ---- STL-10 binary: 3 column-major 96×96 planes per image; labels are bytes 1..10 ----
inline constexpr int kStl10Side = 96;
inline constexpr std::size_t kStl10ImageBytes = 3 * 96 * 96;
Dataset parse_stl10_images(ByteView bytes, const std::string& source);  // labels all -1
std::vector<std::int32_t> parse_stl10_labels(ByteView bytes, const std::string& source);  // 0..9
// fold_indices.txt: exactly `num_folds` lines of whitespace-separated zero-based indices into
// the train split (each < train_count, no repeats within a fold).
std::vector<std::vector<int>> parse_fold_indices(std::string_view text, const std::string& source,
                                                 std::size_t train_count, int num_folds = 10);

// ---- text lists ----
// One name per non-blank line (trailing whitespace and '\r' trimmed); duplicates are an error;
// expected_count = 0 accepts any positive count.
std::vector<std::string> parse_name_list(std::string_view text, const std::string& source,
                                         std::size_t expected_count = 0);
// Tiny ImageNet words.txt: "wnid<TAB>description" per line.
std::map<std::string, std::string> parse_words(std::string_view text, const std::string& source);
// Tiny ImageNet val_annotations.txt: "file<TAB>wnid<TAB>x<TAB>y<TAB>w<TAB>h" per line;
// returns (file, wnid) pairs in file order; a file listed twice is an error.
std::vector<std::pair<std::string, std::string>> parse_val_annotations(std::string_view text,
                                                                       const std::string& source);

inline std::string_view as_text(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace imx::data
