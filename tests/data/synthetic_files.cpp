#include "synthetic_files.hpp"

#include <zlib.h>

#include <atomic>
#include <fstream>
#include <random>
#include <stdexcept>

namespace imx::data::testing {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  std::random_device entropy;
  path_ = std::filesystem::temp_directory_path() /
          ("imx-data-test-" + std::to_string(entropy()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::uint8_t> pattern_image(int image, int channels, int height, int width) {
  std::vector<std::uint8_t> out;
  for (int k = 0; k < channels; ++k)
    for (int r = 0; r < height; ++r)
      for (int c = 0; c < width; ++c) out.push_back(pattern(image, k, r, c));
  return out;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("test setup: cannot write " + path);
}

void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<std::uint8_t>(text.begin(), text.end()));
}

void write_gzip(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  if (!file || gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()))
    throw std::runtime_error("test setup: cannot write " + path);
  gzclose(file);
}

std::vector<std::uint8_t> cifar10_bytes(int first_image, const std::vector<int>& labels) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out.push_back(static_cast<std::uint8_t>(labels[i]));
    const auto image = pattern_image(first_image + static_cast<int>(i), 3, 32, 32);  // R, G, B planes
    out.insert(out.end(), image.begin(), image.end());
  }
  return out;
}

std::vector<std::uint8_t> cifar100_bytes(int first_image, const std::vector<int>& coarse, const std::vector<int>& fine) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < fine.size(); ++i) {
    out.push_back(static_cast<std::uint8_t>(coarse[i]));
    out.push_back(static_cast<std::uint8_t>(fine[i]));
    const auto image = pattern_image(first_image + static_cast<int>(i), 3, 32, 32);
    out.insert(out.end(), image.begin(), image.end());
  }
  return out;
}

std::vector<std::uint8_t> stl10_images_bytes(int first_image, int count) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(count) * 27648);
  for (int i = 0; i < count; ++i)
    for (int k = 0; k < 3; ++k)
      for (int r = 0; r < 96; ++r)
        for (int c = 0; c < 96; ++c)  // the pixel at row r, column c of channel k: k·9216 + c·96 + r
          out[static_cast<std::size_t>(i) * 27648 + k * 9216 + c * 96 + r] = pattern(first_image + i, k, r, c);
  return out;
}

namespace {
void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
}  // namespace

std::vector<std::uint8_t> idx_images_bytes(int first_image, int count, int rows, int cols) {
  std::vector<std::uint8_t> out;
  put_be32(out, 0x00000803);
  put_be32(out, static_cast<std::uint32_t>(count));
  put_be32(out, static_cast<std::uint32_t>(rows));
  put_be32(out, static_cast<std::uint32_t>(cols));
  for (int i = 0; i < count; ++i) {
    const auto image = pattern_image(first_image + i, 1, rows, cols);
    out.insert(out.end(), image.begin(), image.end());
  }
  return out;
}

std::vector<std::uint8_t> idx_labels_bytes(const std::vector<int>& labels) {
  std::vector<std::uint8_t> out;
  put_be32(out, 0x00000801);
  put_be32(out, static_cast<std::uint32_t>(labels.size()));
  for (int label : labels) out.push_back(static_cast<std::uint8_t>(label));
  return out;
}

std::vector<std::uint8_t> flat_image(const std::vector<std::uint8_t>& colour, int height, int width) {
  std::vector<std::uint8_t> out;
  for (std::uint8_t value : colour) out.insert(out.end(), static_cast<std::size_t>(height) * width, value);
  return out;
}

}  // namespace imx::data::testing
