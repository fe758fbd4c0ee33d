// Pixel-exact decoding, labels, folds and split sizes of every format, from synthetic files.
#include <catch.hpp>

#include "imx/data/bytes.hpp"
#include "imx/data/grid.hpp"
#include "imx/data/image_codec.hpp"
#include "imx/data/load.hpp"
#include "synthetic_files.hpp"

using namespace imx::data;
using namespace imx::data::testing;

namespace {

std::vector<std::uint8_t> image_of(const Dataset& data, std::size_t i) {
  std::vector<std::uint8_t> out(data.image_bytes());
  data.copy_image(i, out.data());
  return out;
}

// Image i of `data` must be pattern image `id`.
void require_pattern(const Dataset& data, std::size_t i, int id) {
  INFO("image " << i << " of " << data.name << ", expected pattern " << id);
  REQUIRE(image_of(data, i) == pattern_image(id, data.channels, data.height, data.width));
}

void require_shape(const Dataset& data, int c, int h, int w) {
  REQUIRE(data.channels == c);
  REQUIRE(data.height == h);
  REQUIRE(data.width == w);
}

}  // namespace

TEST_CASE("CIFAR-10 binary: R,G,B planes, labels, all five batches in order", "[cifar]") {
  TempDir dir;
  const std::vector<std::vector<int>> batch_labels = {{3, 9}, {0, 1, 2}, {7}, {4, 5}, {6, 8}};
  int first = 0;
  std::vector<int> all_labels;
  for (int b = 0; b < 5; ++b) {
    write_bytes(dir / ("data_batch_" + std::to_string(b + 1) + ".bin"), cifar10_bytes(first, batch_labels[b]));
    first += static_cast<int>(batch_labels[b].size());
    all_labels.insert(all_labels.end(), batch_labels[b].begin(), batch_labels[b].end());
  }
  write_bytes(dir / "test_batch.bin", cifar10_bytes(100, {2, 2, 5}));

  SECTION("built-in class names without batches.meta.txt") {
    const Splits s = load_dataset("cifar10:" + dir.path().string());
    REQUIRE(s.train.size() == 10);
    REQUIRE(s.test.size() == 3);
    require_shape(s.train, 3, 32, 32);
    for (std::size_t i = 0; i < 10; ++i) {
      require_pattern(s.train, i, static_cast<int>(i));
      REQUIRE(s.train.labels[i] == all_labels[i]);
    }
    for (std::size_t i = 0; i < 3; ++i) require_pattern(s.test, i, 100 + static_cast<int>(i));
    REQUIRE(s.test.labels == std::vector<std::int32_t>{2, 2, 5});
    REQUIRE(s.train.class_names.at(9) == "truck");
    REQUIRE_FALSE(s.unlabeled.has_value());
    // The red plane comes first: byte 0 of the record after the label is R(0,0).
    REQUIRE(image_of(s.train, 1)[0] == pattern(1, 0, 0, 0));
    REQUIRE(image_of(s.train, 1)[1024] == pattern(1, 1, 0, 0));
  }
  SECTION("class names from batches.meta.txt (blank lines ignored)") {
    write_text(dir / "batches.meta.txt", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n");
    const Splits s = load_dataset("cifar10:" + dir.path().string());
    REQUIRE(s.train.class_names.front() == "a");
    REQUIRE(s.test.class_names.back() == "j");
  }
}

TEST_CASE("CIFAR-100 binary: fine and coarse labels", "[cifar]") {
  TempDir dir;
  write_bytes(dir / "train.bin", cifar100_bytes(0, {19, 0, 7, 3}, {99, 0, 42, 11}));
  write_bytes(dir / "test.bin", cifar100_bytes(50, {1, 2}, {3, 4}));
  const Splits fine = load_dataset("cifar100:" + dir.path().string());
  const Splits coarse = load_dataset("cifar100-coarse:" + dir.path().string());
  REQUIRE(fine.train.labels == std::vector<std::int32_t>{99, 0, 42, 11});
  REQUIRE(coarse.train.labels == std::vector<std::int32_t>{19, 0, 7, 3});
  REQUIRE(fine.test.labels == std::vector<std::int32_t>{3, 4});
  REQUIRE(coarse.test.labels == std::vector<std::int32_t>{1, 2});
  REQUIRE(fine.train.class_names.size() == 100);
  REQUIRE(coarse.train.class_names.size() == 20);
  for (std::size_t i = 0; i < 4; ++i) require_pattern(fine.train, i, static_cast<int>(i));
  require_pattern(coarse.test, 1, 51);

  std::string fine_names;
  for (int i = 0; i < 100; ++i) fine_names += "fine" + std::to_string(i) + "\n";
  write_text(dir / "fine_label_names.txt", fine_names);
  REQUIRE(load_dataset("cifar100:" + dir.path().string()).train.class_names.at(42) == "fine42");
}

TEST_CASE("STL-10 binary: column-major planes, labels 1..10, unlabeled, folds", "[stl10]") {
  TempDir dir;
  write_bytes(dir / "train_X.bin", stl10_images_bytes(0, 3));
  write_bytes(dir / "train_y.bin", {1, 10, 4});
  write_bytes(dir / "test_X.bin", stl10_images_bytes(10, 2));
  write_bytes(dir / "test_y.bin", {2, 3});
  write_bytes(dir / "unlabeled_X.bin", stl10_images_bytes(20, 2));
  std::string folds;
  for (int f = 0; f < 10; ++f) folds += std::to_string(f % 3) + " " + std::to_string((f + 1) % 3) + " \n";
  write_text(dir / "fold_indices.txt", folds);

  const Splits s = load_dataset("stl10:" + dir.path().string());
  require_shape(s.train, 3, 96, 96);
  REQUIRE(s.train.size() == 3);
  REQUIRE(s.test.size() == 2);
  REQUIRE(s.train.labels == std::vector<std::int32_t>{0, 9, 3});
  REQUIRE(s.test.labels == std::vector<std::int32_t>{1, 2});
  for (std::size_t i = 0; i < 3; ++i) require_pattern(s.train, i, static_cast<int>(i));
  require_pattern(s.test, 1, 11);
  REQUIRE(s.unlabeled.has_value());
  REQUIRE(s.unlabeled->size() == 2);
  REQUIRE(s.unlabeled->labels == std::vector<std::int32_t>{-1, -1});
  require_pattern(*s.unlabeled, 1, 21);
  // Row-major output: row 1, column 0 of the first plane is output byte 96 and file byte 1.
  REQUIRE(image_of(s.train, 0)[96] == pattern(0, 0, 1, 0));
  REQUIRE(s.folds.size() == 10);
  REQUIRE(s.folds[0] == std::vector<int>{0, 1});
  REQUIRE(s.folds[2] == std::vector<int>{2, 0});
  REQUIRE(s.train.class_names.at(7) == "monkey");

  LoadOptions no_unlabeled;
  no_unlabeled.load_unlabeled = false;
  REQUIRE_FALSE(load_dataset("stl10:" + dir.path().string(), no_unlabeled).unlabeled.has_value());
}

TEST_CASE("idx files: raw and gzipped, MNIST and Fashion-MNIST kinds, non-square images", "[idx]") {
  TempDir dir;
  const bool gzipped = GENERATE(false, true);
  INFO((gzipped ? "gzipped" : "raw") << " files");
  auto write = [&](const std::string& name, const std::vector<std::uint8_t>& bytes) {
    if (gzipped) write_gzip(dir / (name + ".gz"), bytes);
    else write_bytes(dir / name, bytes);
  };
  // 4 rows × 3 columns: a rows/columns mix-up would misplace pixels.
  write("train-images-idx3-ubyte", idx_images_bytes(0, 5, 4, 3));
  write("train-labels-idx1-ubyte", idx_labels_bytes({9, 0, 0, 3, 7}));
  write("t10k-images-idx3-ubyte", idx_images_bytes(40, 2, 4, 3));
  write("t10k-labels-idx1-ubyte", idx_labels_bytes({1, 2}));

  const Splits s = load_dataset("fashion-mnist:" + dir.path().string());
  require_shape(s.train, 1, 4, 3);
  REQUIRE(s.train.size() == 5);
  REQUIRE(s.test.size() == 2);
  REQUIRE(s.train.labels == std::vector<std::int32_t>{9, 0, 0, 3, 7});
  for (std::size_t i = 0; i < 5; ++i) require_pattern(s.train, i, static_cast<int>(i));
  require_pattern(s.test, 1, 41);
  REQUIRE(s.train.class_names.at(9) == "Ankle boot");
  REQUIRE(load_dataset("mnist:" + dir.path().string()).train.class_names.at(9) == "9");
}

TEST_CASE("gunzip: concatenated members and the inflate limit", "[idx]") {
  TempDir dir;
  write_gzip(dir / "a.gz", {1, 2, 3});
  write_gzip(dir / "b.gz", {4, 5});
  auto both = read_file(dir / "a.gz");
  const auto second = read_file(dir / "b.gz");
  both.insert(both.end(), second.begin(), second.end());
  REQUIRE(gunzip(both, "ab.gz") == std::vector<std::uint8_t>{1, 2, 3, 4, 5});
  REQUIRE_THROWS_WITH(gunzip(both, "ab.gz", 4), Catch::Contains("ab.gz") && Catch::Contains("limit of 4 bytes"));
}

namespace {

void write_image(const std::string& path, const std::vector<std::uint8_t>& chw, int channels, int h, int w) {
  const bool jpeg = path.ends_with(".JPEG") || path.ends_with(".jpg");
  write_bytes(path, jpeg ? encode_jpeg(chw.data(), channels, h, w, 100) : encode_png(chw.data(), channels, h, w));
}

// Every pixel of image i is within `tolerance` of `colour` (one value per channel).
void require_flat(const Dataset& data, std::size_t i, const std::vector<int>& colour, int tolerance) {
  const auto image = image_of(data, i);
  const std::size_t plane = static_cast<std::size_t>(data.height) * data.width;
  for (int k = 0; k < data.channels; ++k)
    for (std::size_t p = 0; p < plane; ++p) {
      INFO("image " << i << " channel " << k << " pixel " << p);
      REQUIRE(std::abs(int(image[k * plane + p]) - colour[k]) <= tolerance);
    }
}

// A small Tiny ImageNet tree: 2 classes × 2 train images (one grayscale), 3 val images,
// 1 test image. Flat colours at JPEG quality 100 decode within ±2.
void write_tiny_imagenet(const TempDir& dir) {
  write_text(dir / "wnids.txt", "n02\nn01\n");
  write_text(dir / "words.txt", "n00\tentity\nn01\tgoldfish, Carassius auratus\nn02\ttabby, tabby cat\n");
  const int side = 16;
  write_image(dir / "train/n02/images/n02_0.JPEG", flat_image({200, 40, 90}, side, side), 3, side, side);
  write_image(dir / "train/n02/images/n02_1.JPEG", flat_image({77}, side, side), 1, side, side);  // grayscale
  write_text(dir / "train/n02/n02_boxes.txt", "n02_0.JPEG\t0\t0\t8\t8\n");
  write_image(dir / "train/n01/images/n01_0.JPEG", flat_image({10, 220, 30}, side, side), 3, side, side);
  write_image(dir / "train/n01/images/n01_1.JPEG", flat_image({128, 128, 250}, side, side), 3, side, side);
  write_image(dir / "val/images/val_0.JPEG", flat_image({60, 60, 60}, side, side), 3, side, side);
  write_image(dir / "val/images/val_1.JPEG", flat_image({180}, side, side), 1, side, side);
  write_image(dir / "val/images/val_2.JPEG", flat_image({0, 100, 200}, side, side), 3, side, side);
  write_text(dir / "val/val_annotations.txt",
             "val_0.JPEG\tn01\t0\t0\t9\t9\nval_1.JPEG\tn02\t1\t1\t5\t5\nval_2.JPEG\tn01\t2\t2\t7\t7\n");
  write_image(dir / "test/images/test_0.JPEG", flat_image({5, 6, 7}, side, side), 3, side, side);
}

}  // namespace

TEST_CASE("Tiny ImageNet: wnids order, words.txt names, grayscale JPEG to RGB, val annotations", "[tinyimagenet]") {
  TempDir dir;
  write_tiny_imagenet(dir);
  const bool decode_now = GENERATE(true, false);
  INFO("decode_images = " << decode_now);
  LoadOptions options;
  options.decode_images = decode_now;
  const Splits s = load_dataset("tinyimagenet:" + dir.path().string(), options);
  REQUIRE(s.train.is_encoded() == !decode_now);
  require_shape(s.train, 3, 16, 16);
  REQUIRE(s.train.class_names == std::vector<std::string>{"tabby", "goldfish"});  // wnids.txt order
  REQUIRE(s.train.size() == 4);
  REQUIRE(s.train.labels == std::vector<std::int32_t>{0, 0, 1, 1});
  require_flat(s.train, 0, {200, 40, 90}, 2);
  require_flat(s.train, 1, {77, 77, 77}, 1);  // gray replicated to all three channels
  require_flat(s.train, 2, {10, 220, 30}, 2);
  require_flat(s.train, 3, {128, 128, 250}, 2);
  REQUIRE(s.test.size() == 3);
  REQUIRE(s.test.labels == std::vector<std::int32_t>{1, 0, 1});
  require_flat(s.test, 1, {180, 180, 180}, 1);
  require_flat(s.test, 2, {0, 100, 200}, 2);
  REQUIRE(s.unlabeled.has_value());
  REQUIRE(s.unlabeled->labels == std::vector<std::int32_t>{-1});
  require_flat(*s.unlabeled, 0, {5, 6, 7}, 2);
}

TEST_CASE("JPEG decoding of a patterned image stays within JPEG error", "[tinyimagenet]") {
  const auto image = pattern_image(3, 3, 24, 24);
  const auto jpeg = encode_jpeg(image.data(), 3, 24, 24, 100);
  const DecodedImage decoded = decode_image(jpeg, "pattern.jpg", 3);
  REQUIRE(decoded.height == 24);
  REQUIRE(decoded.width == 24);
  double total_error = 0;
  for (std::size_t i = 0; i < image.size(); ++i) total_error += std::abs(int(decoded.pixels[i]) - int(image[i]));
  // The pattern wraps around 255 -> 0, so edges cost a little; a misplaced plane would be ~80 per pixel.
  REQUIRE(total_error / image.size() < 8.0);
  const auto png = encode_png(image.data(), 3, 24, 24);
  REQUIRE(decode_image(png, "pattern.png", 3).pixels == image);  // PNG is lossless
}

TEST_CASE("folder of class sub-folders: sorted classes, PNG pixel-exact, gray detection, train/test", "[folder]") {
  TempDir dir;
  SECTION("one tree, RGB") {
    write_image(dir / "dog/b.png", pattern_image(1, 3, 5, 4), 3, 5, 4);
    write_image(dir / "dog/a.png", pattern_image(0, 3, 5, 4), 3, 5, 4);
    write_image(dir / "cat/z.PNG", pattern_image(2, 3, 5, 4), 3, 5, 4);
    const Splits s = load_dataset("folder:" + dir.path().string());
    require_shape(s.train, 3, 5, 4);
    REQUIRE(s.train.class_names == std::vector<std::string>{"cat", "dog"});
    REQUIRE(s.train.labels == std::vector<std::int32_t>{0, 1, 1});
    require_pattern(s.train, 0, 2);
    require_pattern(s.train, 1, 0);  // files sorted by name within a class
    require_pattern(s.train, 2, 1);
    REQUIRE(s.test.size() == 0);
    REQUIRE(s.test.class_names == s.train.class_names);
  }
  SECTION("all gray gives one channel; train/ and test/ trees") {
    write_image(dir / "train/x/0.png", pattern_image(0, 1, 6, 6), 1, 6, 6);
    write_image(dir / "train/y/0.png", pattern_image(1, 1, 6, 6), 1, 6, 6);
    write_image(dir / "test/y/0.png", pattern_image(2, 1, 6, 6), 1, 6, 6);
    const Splits s = load_dataset("folder:" + dir.path().string());
    require_shape(s.train, 1, 6, 6);
    REQUIRE(s.train.labels == std::vector<std::int32_t>{0, 1});
    REQUIRE(s.test.labels == std::vector<std::int32_t>{1});
    require_pattern(s.test, 0, 2);
  }
  SECTION("one colour image makes every image RGB") {
    write_image(dir / "a/gray.png", flat_image({90}, 4, 4), 1, 4, 4);
    write_image(dir / "b/rgb.png", flat_image({1, 2, 3}, 4, 4), 3, 4, 4);
    const Splits s = load_dataset("folder:" + dir.path().string());
    require_shape(s.train, 3, 4, 4);
    require_flat(s.train, 0, {90, 90, 90}, 0);
    require_flat(s.train, 1, {1, 2, 3}, 0);
  }
}

TEST_CASE("dataset specs", "[spec]") {
  REQUIRE(parse_spec("cifar10:/a:b").path == "/a:b");
  REQUIRE(parse_spec(kDefaultDataset).kind == "fashion-mnist");
  REQUIRE_THROWS_WITH(parse_spec("imagenet:/x"),
                      Catch::Contains("unknown kind 'imagenet'") && Catch::Contains("cifar10, cifar100, cifar100-coarse, "
                                                                                    "stl10, mnist, fashion-mnist, "
                                                                                    "tinyimagenet, folder"));
  REQUIRE_THROWS_WITH(parse_spec("/just/a/path"), Catch::Contains("expected KIND:PATH"));
  REQUIRE_THROWS_WITH(parse_spec("cifar10:"), Catch::Contains("expected KIND:PATH"));
}

TEST_CASE("make_grid places each image in its tile", "[grid]") {
  Dataset data;
  data.name = "grid-test";
  data.channels = 1;
  data.height = 2;
  data.width = 3;
  for (int i = 0; i < 5; ++i) {
    const auto image = pattern_image(i, 1, 2, 3);
    data.pixels.insert(data.pixels.end(), image.begin(), image.end());
    data.labels.push_back(-1);
  }
  const ImageGrid grid = make_grid(data, 1, 4, 3, 1, 0);  // images 1..4, 3 per row, 1-pixel gaps
  REQUIRE(grid.rows == 2);
  REQUIRE(grid.cols == 3);
  REQUIRE(grid.height == 2 * 3 + 1);
  REQUIRE(grid.width == 3 * 4 + 1);
  auto at = [&](int y, int x) { return grid.pixels[static_cast<std::size_t>(y) * grid.width + x]; };
  REQUIRE(at(0, 0) == 0);                   // gap
  REQUIRE(at(1, 1) == pattern(1, 0, 0, 0));  // tile 0 = image 1
  REQUIRE(at(2, 3) == pattern(1, 0, 1, 2));
  REQUIRE(at(1, 5) == pattern(2, 0, 0, 0));  // tile 1 starts at x = 1 + 4
  REQUIRE(at(4, 1) == pattern(4, 0, 0, 0));  // tile 3 = second row, first column
  REQUIRE(at(5, 3) == pattern(4, 0, 1, 2));
  REQUIRE(at(5, 5) == 0);                    // tile 4 is empty
}
