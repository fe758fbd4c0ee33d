#pragma once
// Building a Dataset from a list of PNG/JPEG files (Tiny ImageNet and class folders).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "imx/data/dataset.hpp"
#include "imx/data/load.hpp"

namespace imx::data::detail {

struct ImageFile {
  std::string path;
  std::int32_t label;  // -1 = unlabeled
};

// True for .png, .jpg and .jpeg in any letter case.
bool is_image_file_name(const std::string& name);

// The entries of `dir`, sorted by name (directory order is not portable).
std::vector<std::filesystem::directory_entry> sorted_entries(const std::string& dir);

// The image files directly inside `dir`, sorted; any other entry is an error naming it.
std::vector<std::string> list_image_files(const std::string& dir);

// Reads every file and checks its header; all images must have the size of the first one
// (an error names the odd file). channels = 0 picks 1 when every file is gray, else 3. Decodes
// now or keeps the compressed bytes, per options.decode_images.
Dataset load_image_files(const std::vector<ImageFile>& files, int channels, std::vector<std::string> class_names,
                         const LoadOptions& options);

}  // namespace imx::data::detail
