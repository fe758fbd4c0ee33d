#include "image_files.hpp"

#include <algorithm>
#include <filesystem>

#include "checks.hpp"
#include "imx/data/bytes.hpp"
#include "imx/data/image_codec.hpp"
#include "parallel.hpp"

namespace imx::data::detail {

bool is_image_file_name(const std::string& name) {
  std::string ext = std::filesystem::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<std::filesystem::directory_entry> sorted_entries(const std::string& dir) {
  std::error_code ec;
  std::vector<std::filesystem::directory_entry> entries;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    entries.push_back(*it);
  if (ec) fail(dir, "cannot list folder: ", ec.message());
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  return entries;
}

std::vector<std::string> list_image_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : sorted_entries(dir)) {
    const std::string path = entry.path().string();
    std::error_code ec;
    if (!entry.is_regular_file(ec) || !is_image_file_name(path))
      fail(path, "unexpected entry: expected only .png/.jpg/.jpeg image files in ", dir);
    files.push_back(path);
  }
  if (files.empty()) fail(dir, "holds no images: expected .png/.jpg/.jpeg files");
  return files;
}

Dataset load_image_files(const std::vector<ImageFile>& files, int channels, std::vector<std::string> class_names,
                         const LoadOptions& options) {
  Dataset out;
  out.class_names = std::move(class_names);
  if (files.empty()) return out;
  std::vector<std::vector<std::uint8_t>> encoded(files.size());
  std::vector<ImageInfo> infos(files.size());
  parallel_for(files.size(), options.threads, [&](std::size_t i) {
    encoded[i] = read_file(files[i].path);
    infos[i] = image_info(encoded[i], files[i].path);
  });
  const ImageInfo& first = infos.front();
  bool all_gray = true;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (infos[i].width != first.width || infos[i].height != first.height)
      fail(files[i].path, "image is ", infos[i].width, "x", infos[i].height, " (WxH), expected ", first.width, "x",
           first.height, " like ", files.front().path);
    all_gray = all_gray && infos[i].channels <= 2;
  }
  out.channels = channels != 0 ? channels : (all_gray ? 1 : 3);
  out.height = first.height;
  out.width = first.width;
  out.labels.reserve(files.size());
  for (const auto& file : files) out.labels.push_back(file.label);
  if (options.decode_images) {
    out.pixels.resize(files.size() * out.image_bytes());
    parallel_for(files.size(), options.threads, [&](std::size_t i) {
      decode_image_into(encoded[i], files[i].path, out.channels, out.height, out.width,
                        out.pixels.data() + i * out.image_bytes());
    });
  } else {
    out.encoded = std::move(encoded);
    for (const auto& file : files) out.encoded_sources.push_back(file.path);
  }
  return out;
}

}  // namespace imx::data::detail
