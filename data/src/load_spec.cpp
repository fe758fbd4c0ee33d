// KIND:PATH parsing, dispatch to the per-kind loaders, and the built-in class-name tables.
#include <algorithm>

#include "checks.hpp"
#include "imx/data/load.hpp"

namespace imx::data {

const std::vector<std::string>& dataset_kinds() {
  static const std::vector<std::string> kinds = {"cifar10", "cifar100",      "cifar100-coarse", "stl10",
                                                 "mnist",   "fashion-mnist", "tinyimagenet",    "folder"};
  return kinds;
}

namespace {
std::string kinds_text() {
  std::string text;
  for (const auto& kind : dataset_kinds()) text += (text.empty() ? "" : ", ") + kind;
  return text;
}
}  // namespace

DatasetSpec parse_spec(const std::string& spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    throw DataError(detail::cat("data set spec '", spec, "': expected KIND:PATH with KIND one of ", kinds_text()));
  DatasetSpec parsed{spec.substr(0, colon), spec.substr(colon + 1)};
  const auto& kinds = dataset_kinds();
  if (std::find(kinds.begin(), kinds.end(), parsed.kind) == kinds.end())
    throw DataError(detail::cat("data set spec '", spec, "': unknown kind '", parsed.kind, "', expected one of ",
                                kinds_text()));
  return parsed;
}

Splits load_dataset(const std::string& spec, const LoadOptions& options) {
  const DatasetSpec parsed = parse_spec(spec);
  const std::string& kind = parsed.kind;
  const std::string& dir = parsed.path;
  Splits splits;
  if (kind == "cifar10") splits = load_cifar10(dir);
  else if (kind == "cifar100") splits = load_cifar100(dir, false);
  else if (kind == "cifar100-coarse") splits = load_cifar100(dir, true);
  else if (kind == "stl10") splits = load_stl10(dir, options);
  else if (kind == "mnist") splits = load_idx(dir, mnist_class_names());
  else if (kind == "fashion-mnist") splits = load_idx(dir, fashion_mnist_class_names());
  else if (kind == "tinyimagenet") splits = load_tinyimagenet(dir, options);
  else splits = load_image_folder(dir, options);
  splits.train.name = spec + " (train)";
  splits.test.name = spec + " (test)";
  if (splits.unlabeled) splits.unlabeled->name = spec + " (unlabeled)";
  return splits;
}

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

const std::vector<std::string>& mnist_class_names() {
  static const std::vector<std::string> names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  return names;
}

const std::vector<std::string>& cifar10_class_names() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

const std::vector<std::string>& stl10_class_names() {
  static const std::vector<std::string> names = {"airplane", "bird",   "car",    "cat",  "deer",
                                                 "dog",      "horse",  "monkey", "ship", "truck"};
  return names;
}

}  // namespace imx::data
