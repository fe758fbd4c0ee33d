// Every malformed input gets an error naming the file and saying what was expected and found.
#include <catch.hpp>

#include "imx/data/bytes.hpp"
#include "imx/data/formats.hpp"
#include "imx/data/image_codec.hpp"
#include "imx/data/load.hpp"
#include "synthetic_files.hpp"

using namespace imx::data;
using namespace imx::data::testing;
using Catch::Contains;

namespace {

std::vector<std::uint8_t> without_last(std::vector<std::uint8_t> bytes, std::size_t n) {
  bytes.resize(bytes.size() - n);
  return bytes;
}

// A valid idx folder (5 train, 2 test images of 28×28).
void write_idx(const TempDir& dir) {
  write_bytes(dir / "train-images-idx3-ubyte", idx_images_bytes(0, 5, 28, 28));
  write_bytes(dir / "train-labels-idx1-ubyte", idx_labels_bytes({0, 1, 2, 3, 4}));
  write_bytes(dir / "t10k-images-idx3-ubyte", idx_images_bytes(5, 2, 28, 28));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels_bytes({5, 6}));
}

}  // namespace

TEST_CASE("idx errors", "[idx][errors]") {
  TempDir dir;
  write_idx(dir);
  const std::string spec = "fashion-mnist:" + dir.path().string();
  const std::string images = dir / "train-images-idx3-ubyte";
  const std::string labels = dir / "train-labels-idx1-ubyte";
  REQUIRE_NOTHROW(load_dataset(spec));

  SECTION("truncated images file") {
    write_bytes(images, without_last(idx_images_bytes(0, 5, 28, 28), 100));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(images) && Contains("wrong file size") &&
                                                Contains("header says 5 images of 28x28") &&
                                                Contains("expected 3936 bytes") && Contains("found 3836 bytes"));
  }
  SECTION("extra bytes") {
    auto bytes = idx_images_bytes(0, 5, 28, 28);
    bytes.push_back(0);
    write_bytes(images, bytes);
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains("expected 3936 bytes") && Contains("found 3937 bytes"));
  }
  SECTION("wrong magic: a labels file where images belong") {
    write_bytes(images, idx_labels_bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2}));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(images) && Contains("bad magic number: expected 0x00000803") &&
                                                Contains("found 0x00000801 (an idx labels file)"));
  }
  SECTION("header cut short") {
    write_bytes(images, {0, 0, 8, 3, 0, 0});
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(images) && Contains("truncated header: expected at least 16 bytes") &&
                                                Contains("found 6 bytes"));
  }
  SECTION("label out of range") {
    write_bytes(labels, idx_labels_bytes({0, 1, 10, 3, 4}));
    REQUIRE_THROWS_WITH(load_dataset(spec),
                        Contains(labels) && Contains("label 10 of record 2 out of range: expected 0..9"));
  }
  SECTION("labels file shorter than its header says") {
    write_bytes(labels, without_last(idx_labels_bytes({0, 1, 2, 3, 4}), 1));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(labels) && Contains("header says 5 labels, expected 13 bytes") &&
                                                Contains("found 12 bytes"));
  }
  SECTION("label count differs from image count") {
    write_bytes(labels, idx_labels_bytes({0, 1, 2, 3}));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(labels) && Contains("holds 4 labels, expected 5"));
  }
  SECTION("missing file") {
    std::filesystem::remove(dir / "t10k-labels-idx1-ubyte");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "t10k-labels-idx1-ubyte") && Contains("file not found"));
  }
  SECTION("missing folder") {
    REQUIRE_THROWS_WITH(load_dataset("mnist:" + (dir / "nope")), Contains(dir / "nope") && Contains("folder not found"));
  }
  SECTION("truncated gzip") {
    std::filesystem::remove(images);
    write_gzip(images + ".gz", idx_images_bytes(0, 5, 28, 28));
    write_bytes(images + ".gz", without_last(read_file(images + ".gz"), 20));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(images + ".gz") && Contains("truncated gzip stream"));
  }
  SECTION("corrupt gzip") {
    std::filesystem::remove(images);
    write_gzip(images + ".gz", idx_images_bytes(0, 5, 28, 28));
    auto bytes = read_file(images + ".gz");
    for (std::size_t i = 12; i < bytes.size() - 8; ++i) bytes[i] ^= 0x5a;
    write_bytes(images + ".gz", bytes);
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(images + ".gz") && Contains("corrupt gzip stream"));
  }
  SECTION("test images of another size") {
    write_bytes(dir / "t10k-images-idx3-ubyte", idx_images_bytes(5, 2, 28, 27));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains("images are 27x28 (WxH), expected 28x28"));
  }
}

TEST_CASE("CIFAR errors", "[cifar][errors]") {
  TempDir dir;
  for (int b = 1; b <= 5; ++b) write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar10_bytes(0, {1, 2}));
  write_bytes(dir / "test_batch.bin", cifar10_bytes(0, {3}));
  const std::string spec = "cifar10:" + dir.path().string();
  REQUIRE_NOTHROW(load_dataset(spec));

  SECTION("truncated record") {
    write_bytes(dir / "data_batch_2.bin", without_last(cifar10_bytes(0, {1, 2}), 1));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "data_batch_2.bin") &&
                                                Contains("wrong file size: expected a multiple of 3073 bytes") &&
                                                Contains("found 6145 bytes = 1 records + 3072 bytes"));
  }
  SECTION("empty file") {
    write_bytes(dir / "test_batch.bin", {});
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "test_batch.bin") && Contains("empty file"));
  }
  SECTION("label out of range") {
    write_bytes(dir / "data_batch_5.bin", cifar10_bytes(0, {1, 10}));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "data_batch_5.bin") &&
                                                Contains("label 10 of record 1 out of range: expected 0..9"));
  }
  SECTION("missing batch") {
    std::filesystem::remove(dir / "data_batch_3.bin");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "data_batch_3.bin") && Contains("file not found"));
  }
  SECTION("wrong number of class names") {
    write_text(dir / "batches.meta.txt", "a\nb\nc\n");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "batches.meta.txt") && Contains("expected 10 names") &&
                                                Contains("found 3"));
  }
  SECTION("CIFAR-100 labels") {
    write_bytes(dir / "train.bin", cifar100_bytes(0, {20}, {5}));
    write_bytes(dir / "test.bin", cifar100_bytes(0, {1}, {100}));
    // Both label bytes are checked whichever one is used.
    REQUIRE_THROWS_WITH(load_dataset("cifar100:" + dir.path().string()),
                        Contains(dir / "train.bin") && Contains("coarse label 20 of record 0 out of range: expected 0..19"));
    write_bytes(dir / "train.bin", cifar100_bytes(0, {1}, {5}));
    REQUIRE_THROWS_WITH(load_dataset("cifar100-coarse:" + dir.path().string()),
                        Contains(dir / "test.bin") && Contains("fine label 100 of record 0 out of range: expected 0..99"));
    write_bytes(dir / "test.bin", cifar10_bytes(0, {1, 2}));  // CIFAR-10 records in a CIFAR-100 file
    REQUIRE_THROWS_WITH(load_dataset("cifar100:" + dir.path().string()),
                        Contains("expected a multiple of 3074 bytes") && Contains("found 6146 bytes"));
  }
}

TEST_CASE("STL-10 errors", "[stl10][errors]") {
  TempDir dir;
  write_bytes(dir / "train_X.bin", stl10_images_bytes(0, 2));
  write_bytes(dir / "train_y.bin", {1, 2});
  write_bytes(dir / "test_X.bin", stl10_images_bytes(0, 1));
  write_bytes(dir / "test_y.bin", {3});
  const std::string spec = "stl10:" + dir.path().string();
  REQUIRE_NOTHROW(load_dataset(spec));
  std::string ten_lines;
  for (int i = 0; i < 10; ++i) ten_lines += "0 1\n";

  SECTION("label 0 (labels are 1-based)") {
    write_bytes(dir / "train_y.bin", {1, 0});
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "train_y.bin") &&
                                                Contains("label 0 of record 1 out of range: expected 1..10"));
  }
  SECTION("label 11") {
    write_bytes(dir / "test_y.bin", {11});
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains("label 11 of record 0 out of range: expected 1..10"));
  }
  SECTION("label count differs from image count") {
    write_bytes(dir / "train_y.bin", {1, 2, 3});
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "train_y.bin") && Contains("holds 3 labels, expected 2"));
  }
  SECTION("truncated images") {
    write_bytes(dir / "test_X.bin", without_last(stl10_images_bytes(0, 1), 9216));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "test_X.bin") &&
                                                Contains("expected a multiple of 27648 bytes") && Contains("found 18432"));
  }
  SECTION("fold index beyond the train split") {
    write_text(dir / "fold_indices.txt", ten_lines + "");
    REQUIRE_NOTHROW(load_dataset(spec));
    write_text(dir / "fold_indices.txt", "0 2\n" + ten_lines.substr(4));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "fold_indices.txt") &&
                                                Contains("line 1: index 2 out of range: expected 0..1"));
  }
  SECTION("nine folds") {
    write_text(dir / "fold_indices.txt", ten_lines.substr(4));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains("expected 10 folds (non-blank lines), found 9"));
  }
  SECTION("not a number") {
    write_text(dir / "fold_indices.txt", ten_lines.substr(4) + "1 x\n");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains("line 10: expected a non-negative index, found 'x'"));
  }
  SECTION("repeated index") {
    write_text(dir / "fold_indices.txt", ten_lines.substr(4) + "1 1\n");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains("line 10: index 1 appears twice"));
  }
}

namespace {
void write_png(const std::string& path, int h, int w) {
  const auto image = flat_image({10, 20, 30}, h, w);
  write_bytes(path, encode_png(image.data(), 3, h, w));
}
}  // namespace

TEST_CASE("image-file errors: folder", "[folder][errors]") {
  TempDir dir;
  write_png(dir / "a/0.png", 8, 8);
  write_png(dir / "b/0.png", 8, 8);
  const std::string spec = "folder:" + dir.path().string();
  REQUIRE_NOTHROW(load_dataset(spec));
  SECTION("an image of another size is named") {
    write_png(dir / "b/1.png", 8, 7);
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "b/1.png") && Contains("image is 7x8 (WxH), expected 8x8") &&
                                                Contains(dir / "a/0.png"));
  }
  SECTION("a non-image file is named") {
    write_text(dir / "b/notes.txt", "hi");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "b/notes.txt") && Contains("expected only .png/.jpg/.jpeg"));
  }
  SECTION("a file among the class folders") {
    write_text(dir / "README", "hi");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "README") && Contains("expected only class sub-folders"));
  }
  SECTION("an empty class folder") {
    std::filesystem::create_directories(dir / "c");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "c") && Contains("holds no images"));
  }
  SECTION("a corrupt PNG") {
    auto bytes = read_file(dir / "a/0.png");
    write_bytes(dir / "a/0.png", without_last(bytes, bytes.size() / 2));
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "a/0.png") && Contains("corrupt image"));
  }
  SECTION("not an image at all") {
    write_text(dir / "a/0.png", "this is text");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "a/0.png") && Contains("not a readable PNG or JPEG image"));
  }
  SECTION("a corrupt file is found by the loader's workers when decoding is deferred") {
    auto bytes = read_file(dir / "a/0.png");
    write_bytes(dir / "a/0.png", without_last(bytes, bytes.size() / 2));
    LoadOptions deferred;
    deferred.decode_images = false;
    const Splits s = load_dataset(spec, deferred);  // the header is intact
    std::vector<std::uint8_t> out(s.train.image_bytes());
    REQUIRE_THROWS_WITH(s.train.copy_image(0, out.data()), Contains(dir / "a/0.png") && Contains("corrupt image"));
  }
}

TEST_CASE("image-file errors: Tiny ImageNet", "[tinyimagenet][errors]") {
  TempDir dir;
  write_text(dir / "wnids.txt", "n1\nn2\n");
  write_png(dir / "train/n1/images/a.JPEG", 8, 8);
  write_png(dir / "train/n2/images/b.JPEG", 8, 8);  // the extension does not decide the decoder
  write_png(dir / "val/images/v.JPEG", 8, 8);
  write_text(dir / "val/val_annotations.txt", "v.JPEG\tn2\t0\t0\t1\t1\n");
  const std::string spec = "tinyimagenet:" + dir.path().string();
  REQUIRE_NOTHROW(load_dataset(spec));

  SECTION("val image listed but missing") {
    write_text(dir / "val/val_annotations.txt", "v.JPEG\tn2\t0\t0\t1\t1\nw.JPEG\tn1\t0\t0\t1\t1\n");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "val/images/w.JPEG") && Contains("file not found"));
  }
  SECTION("val image not listed") {
    write_png(dir / "val/images/extra.JPEG", 8, 8);
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "val/images/extra.JPEG") && Contains("image not listed"));
  }
  SECTION("unknown wnid in the annotations") {
    write_text(dir / "val/val_annotations.txt", "v.JPEG\tn9\t0\t0\t1\t1\n");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains("val_annotations.txt") && Contains("wnid 'n9'"));
  }
  SECTION("train folder of an unlisted wnid") {
    write_png(dir / "train/n3/images/c.JPEG", 8, 8);
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "train/n3") && Contains("not a wnid listed"));
  }
  SECTION("listed wnid without train images") {
    write_text(dir / "wnids.txt", "n1\nn2\nn4\n");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "train/n4/images") && Contains("folder not found"));
  }
  SECTION("duplicate wnid") {
    write_text(dir / "wnids.txt", "n1\nn2\nn1\n");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "wnids.txt") && Contains("line 3: 'n1' is listed twice"));
  }
  SECTION("words.txt without the wnid") {
    write_text(dir / "words.txt", "n1\tone\n");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains(dir / "words.txt") && Contains("no entry for wnid 'n2'"));
  }
  SECTION("malformed annotation line") {
    write_text(dir / "val/val_annotations.txt", "v.JPEG n2\n");
    REQUIRE_THROWS_WITH(load_dataset(spec), Contains("line 1: expected 'file<TAB>wnid<TAB>box...'"));
  }
}

TEST_CASE("buffer-level guards", "[errors]") {
  REQUIRE_THROWS_WITH(gunzip(std::vector<std::uint8_t>{1, 2, 3}, "x.gz"), Contains("x.gz: not a gzip stream"));
  REQUIRE_THROWS_WITH(image_info(std::vector<std::uint8_t>{}, "e.png"), Contains("e.png: empty file"));
  REQUIRE_THROWS_WITH(parse_name_list("\n \n", "names.txt"), Contains("names.txt: expected a list of names"));
  REQUIRE_THROWS_WITH(parse_words("n1 entity\n", "words.txt"), Contains("line 1: expected 'wnid<TAB>description'"));
  // An idx header promising more pixels than any real file.
  std::vector<std::uint8_t> huge = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x80, 0, 0, 0, 0x80, 0};
  REQUIRE_THROWS_WITH(parse_idx_images(huge, "huge"), Contains("wrong file size: header says 4294967295 images"));
}

TEST_CASE("corrupt JPEG Huffman tables are rejected before stb decodes them", "[errors][jpeg]") {
  const auto image = pattern_image(0, 3, 16, 16);
  const auto jpeg = encode_jpeg(image.data(), 3, 16, 16, 90);
  REQUIRE_NOTHROW(decode_image(jpeg, "ok.jpg", 3));
  auto find_marker = [&](std::uint8_t marker) {
    for (std::size_t i = 0; i + 1 < jpeg.size(); ++i)
      if (jpeg[i] == 0xff && jpeg[i + 1] == marker) return i;
    FAIL("marker not found");
    return std::size_t{0};
  };
  SECTION("a table declaring more than 256 codes") {
    auto bad = jpeg;
    const std::size_t counts = find_marker(0xc4) + 5;  // FF C4, length (2), class/id, then 16 counts
    for (int i = 0; i < 16; ++i) bad[counts + i] = 0x20;
    REQUIRE_THROWS_WITH(image_info(bad, "dht.jpg"),
                        Contains("dht.jpg: corrupt JPEG: Huffman table with 512 codes, expected at most 256"));
  }
  SECTION("a scan using a table no DHT defines") {
    auto bad = jpeg;
    const std::size_t first_component = find_marker(0xda) + 5;  // FF DA, length (2), count, then id + tables
    bad[first_component + 1] = 0x33;
    REQUIRE_THROWS_WITH(decode_image(bad, "sos.jpg", 3), Contains("sos.jpg: corrupt JPEG: a scan uses DC Huffman table 3"));
  }
}

TEST_CASE("PNG chunks that claim more bytes than the file has are refused before decoding", "[data][errors]") {
  // A fuzzer input: an 8x8 PNG whose later chunk declares a length past the end of the file,
  // which made stb_image grow its buffer to gigabytes before reading it.
  const std::vector<std::uint8_t> crafted = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x08, 0x08, 0x02, 0x00, 0x00, 0x00, 0x4b, 0x6d, 0x29,
    0xdc, 0x00, 0x00, 0x00, 0x15, 0x49, 0x44, 0x41, 0x54, 0x78, 0x5e, 0x63, 0xd6, 0xea, 0xff, 0xc2,
    0x8b, 0x0d, 0x30, 0xb1, 0xe3, 0x00, 0x83, 0x53, 0x35, 0xf7, 0x53, 0x74, 0x39, 0x74, 0x79, 0x70,
    0x65, 0x5f, 0x69, 0x6e, 0x66, 0x6f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x5e, 0x63, 0xd6, 0xea, 0xff,
    0xc2, 0x8b, 0x0d, 0x30, 0xb1, 0xe3, 0x00, 0x83, 0x53, 0x35, 0xf7, 0x05, 0x00, 0xc0, 0x61, 0x00,
    0x00, 0x6a, 0x67, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82, 0xa5,
    0x54, 0x11, 0x00, 0x00, 0x00, 0x6a, 0x67, 0x00, 0x00, 0x00, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7,
    0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7,
    0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7,
    0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7,
    0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7,
    0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7,
    0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0xf7, 0x00,
    0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82, 0xa5, 0x54, 0x11, 0x00, 0x70, 0x61, 0x00, 0x00};
  CHECK_THROWS_WITH(imx::data::image_info(crafted, "crafted.png"),
                    Catch::Contains("crafted.png") && Catch::Contains("corrupt or truncated PNG"));
  // A valid PNG cut inside a chunk is refused the same way, naming the chunk.
  const std::vector<std::uint8_t> pixels(3 * 4 * 5, 128);
  std::vector<std::uint8_t> png = imx::data::encode_png(pixels.data(), 3, 4, 5);
  CHECK(imx::data::image_info(png, "whole.png").width == 5);
  png.resize(png.size() - 20);
  CHECK_THROWS_WITH(imx::data::image_info(png, "cut.png"), Catch::Contains("cut.png") && Catch::Contains("chunk"));
}
