// Writes one small valid example of each format into <corpus>/<target>/seed-*, so fuzzing
// starts from inputs that reach past the first checks.
#include <filesystem>
#include <iostream>
#include <string>

#include "synthetic_files.hpp"  // tests/data: the same writers the tests use
#include "imx/data/image_codec.hpp"

using namespace imx::data;
using namespace imx::data::testing;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds CORPUS_DIR\n";
    return 2;
  }
  const std::string root = argv[1];
  auto put = [&](const std::string& target, const std::string& name, const std::vector<std::uint8_t>& bytes) {
    write_bytes(root + "/" + target + "/seed-" + name, bytes);
  };
  const auto idx = idx_images_bytes(0, 3, 4, 5);
  put("fuzz_idx", "images", idx);
  put("fuzz_idx", "labels", idx_labels_bytes({1, 2, 9}));
  write_gzip(root + "/fuzz_idx/seed-images.gz", idx);
  put("fuzz_cifar", "cifar10", cifar10_bytes(0, {3, 4}));
  put("fuzz_cifar", "cifar100", cifar100_bytes(0, {3, 19}, {4, 99}));
  put("fuzz_stl10", "images", stl10_images_bytes(0, 1));
  put("fuzz_stl10", "labels", {1, 5, 10});
  std::string folds = "\x7d";  // train_count 125·40 = 5000
  for (int f = 0; f < 10; ++f) folds += std::to_string(f) + " " + std::to_string(f + 100) + " 4999\n";
  put("fuzz_folds", "folds", std::vector<std::uint8_t>(folds.begin(), folds.end()));
  auto text = [&](const std::string& name, const std::string& s) {
    put("fuzz_text_lists", name, std::vector<std::uint8_t>(s.begin(), s.end()));
  };
  text("names", "airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\ntruck\n");
  text("words", "n01443537\tgoldfish, Carassius auratus\nn01629819\tEuropean fire salamander\n");
  text("val", "val_0.JPEG\tn03444034\t0\t32\t44\t62\nval_1.JPEG\tn04067472\t52\t55\t57\t59\n");
  const auto rgb = pattern_image(1, 3, 8, 8), gray = pattern_image(2, 1, 8, 8);
  put("fuzz_image", "rgb.png", encode_png(rgb.data(), 3, 8, 8));
  put("fuzz_image", "gray.png", encode_png(gray.data(), 1, 8, 8));
  put("fuzz_image", "rgb.jpg", encode_jpeg(rgb.data(), 3, 8, 8, 90));
  put("fuzz_image", "gray.jpg", encode_jpeg(gray.data(), 1, 8, 8, 90));
  return 0;
}
