// dim-data: inspect a data set before a long run.
//   dim-data check [KIND:PATH]                validate every file; print per-split statistics
//   dim-data show  [KIND:PATH] --out g.png    write a PNG grid of the first images, print labels
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <string>

#include "imx/data/bytes.hpp"
#include "imx/data/error.hpp"
#include "imx/data/grid.hpp"
#include "imx/data/image_codec.hpp"
#include "imx/data/load.hpp"

using namespace imx::data;

namespace {

std::string kinds_text() {
  std::string text;
  for (const auto& kind : dataset_kinds()) text += (text.empty() ? "" : ", ") + kind;
  return text;
}

std::string label_text(const Dataset& data, std::int32_t label) {
  if (label < 0) return "- (unlabeled)";
  return std::to_string(label) + " " + data.class_names.at(static_cast<std::size_t>(label));
}

void print_split(const std::string& split, const Dataset& data) {
  data.check_consistent();
  std::cout << split << ": " << data.size() << " images, " << data.channels << "x" << data.height << "x" << data.width
            << " (CxHxW), " << data.class_names.size() << " classes\n";
  if (data.size() == 0) return;
  const auto histogram = data.label_histogram();
  const std::size_t unlabeled = static_cast<std::size_t>(std::count(data.labels.begin(), data.labels.end(), -1));
  if (unlabeled == data.size()) {
    std::cout << "  all unlabeled\n";
    return;
  }
  std::size_t name_width = 0;
  for (const auto& name : data.class_names) name_width = std::max(name_width, name.size());
  std::cout << "  label histogram:\n";
  for (std::size_t label = 0; label < histogram.size(); ++label)
    std::cout << "    " << std::setw(4) << label << "  " << std::left << std::setw(static_cast<int>(name_width))
              << data.class_names[label] << std::right << "  " << std::setw(8) << histogram[label] << "\n";
  if (unlabeled) std::cout << "    unlabeled: " << unlabeled << "\n";
}

int run_check(const std::string& spec, bool unlabeled) {
  LoadOptions options;
  options.decode_images = true;  // decode every image file, so a corrupt one is found now
  options.load_unlabeled = unlabeled;
  const Splits splits = load_dataset(spec, options);
  std::cout << "data set " << spec << "\n";
  print_split("train", splits.train);
  print_split("test", splits.test);
  if (splits.unlabeled)
    print_split("unlabeled", *splits.unlabeled);
  else
    std::cout << "unlabeled: none" << (unlabeled ? "" : " (not read: --no-unlabeled)") << "\n";
  if (splits.folds.empty()) {
    std::cout << "folds: none\n";
  } else {
    std::size_t smallest = SIZE_MAX, largest = 0;
    for (const auto& fold : splits.folds) {
      smallest = std::min(smallest, fold.size());
      largest = std::max(largest, fold.size());
    }
    std::cout << "folds: " << splits.folds.size() << " of " << smallest;
    if (largest != smallest) std::cout << ".." << largest;
    std::cout << " train indices each\n";
  }
  std::cout << "OK: every file read and validated\n";
  return 0;
}

int run_show(const std::string& spec, const std::string& out, std::size_t count, std::size_t first, int cols,
             const std::string& split) {
  LoadOptions options;
  options.decode_images = false;  // image-file kinds: decode only the images shown
  options.load_unlabeled = split == "unlabeled";
  const Splits splits = load_dataset(spec, options);
  const Dataset* data = split == "train" ? &splits.train : split == "test" ? &splits.test : nullptr;
  if (split == "unlabeled") {
    if (!splits.unlabeled) throw DataError(spec + ": this data set has no unlabeled split");
    data = &*splits.unlabeled;
  }
  if (cols <= 0) cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(std::max<std::size_t>(count, 1)))));
  const ImageGrid grid = make_grid(*data, first, count, cols);
  write_file(out, encode_png(grid.pixels.data(), grid.channels, grid.height, grid.width));
  const std::size_t shown = std::min(count, data->size() - first);
  std::cout << "wrote " << out << ": images " << first << ".." << first + shown - 1 << " of the " << split
            << " split, " << grid.rows << " rows x " << grid.cols << " columns of " << data->width << "x"
            << data->height << " (" << grid.width << "x" << grid.height << " pixels)\n";
  for (int row = 0; row < grid.rows; ++row) {
    std::cout << "row " << row << ":";
    for (int col = 0; col < grid.cols; ++col) {
      const std::size_t i = static_cast<std::size_t>(row) * grid.cols + col;
      if (i >= shown) break;
      std::cout << (col ? " | " : " ") << label_text(*data, data->labels[first + i]);
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dim-data: validate and preview a data set named as KIND:PATH.\n"
               "Kinds: " + kinds_text() + ".\nDefault data set: " + kDefaultDataset};
  app.require_subcommand(1);

  std::string check_spec = kDefaultDataset;
  bool check_no_unlabeled = false;
  auto* check = app.add_subcommand(
      "check", "Read and validate every file (decoding every image), then print each split's image count, "
               "image shape, number of classes and label histogram, and the STL-10 folds. Exits 1 with the "
               "error on any missing, truncated or corrupt file.");
  check->add_option("spec", check_spec, "data set as KIND:PATH")->capture_default_str();
  check->add_flag("--no-unlabeled", check_no_unlabeled,
                  "skip the unlabeled split (STL-10 unlabeled_X.bin, Tiny ImageNet test/images)");

  std::string show_spec = kDefaultDataset, out, split = "train";
  std::size_t count = 64, first = 0;
  int cols = 0;
  auto* show = app.add_subcommand(
      "show", "Write a PNG grid of the first images of a split and print their labels row by row, with "
              "class names. Only the images shown are decoded.");
  show->add_option("spec", show_spec, "data set as KIND:PATH")->capture_default_str();
  show->add_option("--out,-o", out, "PNG file to write")->required();
  show->add_option("--count,-n", count, "number of images")->capture_default_str()->check(CLI::PositiveNumber);
  show->add_option("--first", first, "index of the first image shown")->capture_default_str();
  show->add_option("--cols", cols, "images per row (default: a square grid)")->check(CLI::NonNegativeNumber);
  show->add_option("--split", split, "which split")
      ->capture_default_str()
      ->check(CLI::IsMember({"train", "test", "unlabeled"}));

  CLI11_PARSE(app, argc, argv);
  try {
    if (check->parsed()) return run_check(check_spec, !check_no_unlabeled);
    return run_show(show_spec, out, count, first, cols, split);
  } catch (const std::exception& error) {
    std::cerr << "dim-data: error: " << error.what() << "\n";
    return 1;
  }
}
