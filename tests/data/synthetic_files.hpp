#pragma once
// Writers of small synthetic data sets in each real on-disk format, for the tests. They write
// bytes by the published layouts directly (not through the parsers under test).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace imx::data::testing {

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The test pattern: a distinct byte for every (image, channel, row, column), varying along
// each axis at a different rate so a transposed or shifted layout cannot match by accident.
constexpr std::uint8_t pattern(int image, int channel, int row, int col) {
  return static_cast<std::uint8_t>(image * 37 + channel * 101 + row * 7 + col * 13 + 5);
}

// The pattern as C×H×W bytes.
std::vector<std::uint8_t> pattern_image(int image, int channels, int height, int width);

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes);
void write_text(const std::string& path, const std::string& text);
void write_gzip(const std::string& path, const std::vector<std::uint8_t>& bytes);  // via zlib's gz* API

// CIFAR record files: images first_image .. first_image+count-1 of the pattern, labels given.
// cifar100: two label bytes (coarse, fine) per record.
std::vector<std::uint8_t> cifar10_bytes(int first_image, const std::vector<int>& labels);
std::vector<std::uint8_t> cifar100_bytes(int first_image, const std::vector<int>& coarse, const std::vector<int>& fine);

// STL-10 X file: pattern images written column-major per plane, 96×96×3.
std::vector<std::uint8_t> stl10_images_bytes(int first_image, int count);

// idx files, big-endian header.
std::vector<std::uint8_t> idx_images_bytes(int first_image, int count, int rows, int cols);
std::vector<std::uint8_t> idx_labels_bytes(const std::vector<int>& labels);

// A flat-coloured image (every pixel the same) as C×H×W bytes.
std::vector<std::uint8_t> flat_image(const std::vector<std::uint8_t>& colour, int height, int width);

}  // namespace imx::data::testing
