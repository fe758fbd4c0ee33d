// The real Fashion-MNIST from Debian's dataset-fashion-mnist package, when installed.
//
// Reference values were read independently of this code base, with Python's gzip module:
//   python3 -c "import gzip; d=gzip.open('train-images-idx3-ubyte.gz').read();
//               l=gzip.open('train-labels-idx1-ubyte.gz').read();
//               print(d[:16].hex(), l[8:12].hex(), [d[16+r*28+c] for r,c in ((3,15),(3,16),(14,25),(17,18),(24,6))],
//                     sum(d[16:16+784]))"   (one line)
// giving header 00000803 0000ea60 0000001c 0000001c, first labels 9 0 0 3, pixels
// (3,15)=13 (3,16)=73 (14,25)=255 (17,18)=255 (24,6)=222 and a pixel sum of 76247 for the first
// training image; the first test label is 9 and the first test image's pixel sum is 33456.
#include <catch.hpp>

#include <filesystem>
#include <numeric>

#include "imx/data/load.hpp"

using namespace imx::data;

TEST_CASE("the real Fashion-MNIST loads with known first image and labels", "[fashion]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::is_directory(dir)) {
    WARN("skipped: " << dir << " is absent (Debian package dataset-fashion-mnist not installed; see setup.sh)");
    return;
  }
  const Splits s = load_dataset(kDefaultDataset);
  REQUIRE(s.train.size() == 60000);
  REQUIRE(s.test.size() == 10000);
  REQUIRE(s.train.channels == 1);
  REQUIRE(s.train.height == 28);
  REQUIRE(s.train.width == 28);
  REQUIRE(s.train.labels[0] == 9);
  REQUIRE(s.train.class_names[9] == "Ankle boot");
  REQUIRE(s.train.labels[1] == 0);
  REQUIRE(s.train.labels[3] == 3);
  auto px = [&](int r, int c) { return int(s.train.pixels[r * 28 + c]); };
  REQUIRE(px(0, 0) == 0);
  REQUIRE(px(3, 15) == 13);
  REQUIRE(px(3, 16) == 73);
  REQUIRE(px(14, 25) == 255);
  REQUIRE(px(17, 18) == 255);
  REQUIRE(px(24, 6) == 222);
  REQUIRE(std::accumulate(s.train.pixels.begin(), s.train.pixels.begin() + 784, 0L) == 76247);
  REQUIRE(s.test.labels[0] == 9);
  REQUIRE(std::accumulate(s.test.pixels.begin(), s.test.pixels.begin() + 784, 0L) == 33456);
  // The classes are balanced: 6000 train and 1000 test images each.
  for (std::size_t count : s.train.label_histogram()) REQUIRE(count == 6000);
  for (std::size_t count : s.test.label_histogram()) REQUIRE(count == 1000);
}
