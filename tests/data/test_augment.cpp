// Preprocessing and augmentation against hand-computed values; determinism for a seed.
#include <catch.hpp>

#include <map>
#include <set>

#include "imx/data/augment.hpp"
#include "imx/data/error.hpp"
#include "imx/data/rng.hpp"
#include "synthetic_files.hpp"

using namespace imx::data;
using imx::data::testing::pattern_image;

namespace {
std::vector<float> scaled(const std::vector<std::uint8_t>& bytes) {
  std::vector<float> out(bytes.size());
  scale_to_unit_range(bytes.data(), bytes.size(), out.data());
  return out;
}
}  // namespace

TEST_CASE("scale_to_unit_range maps 0..255 onto [-1, 1]", "[augment]") {
  const auto out = scaled({0, 255, 51, 127, 128});
  REQUIRE(out[0] == -1.0f);
  REQUIRE(out[1] == Approx(1.0f).margin(1e-6));
  REQUIRE(out[2] == Approx(-0.6).epsilon(1e-6));
  REQUIRE(out[3] == Approx(127 / 127.5 - 1).margin(1e-6));
  REQUIRE(out[4] == Approx(128 / 127.5 - 1).margin(1e-6));
}

TEST_CASE("copy_window pads, crops and both", "[augment]") {
  const std::vector<float> image = {1, 2, 3, 4, 5, 6};  // 1 channel, 2 rows × 3 columns
  const float f = -9;
  SECTION("pad by one on every side") {
    std::vector<float> out(4 * 5);
    copy_window(image.data(), 1, 2, 3, -1, -1, 4, 5, f, out.data());
    REQUIRE(out == std::vector<float>{f, f, f, f, f,  //
                                      f, 1, 2, 3, f,  //
                                      f, 4, 5, 6, f,  //
                                      f, f, f, f, f});
  }
  SECTION("inner crop") {
    std::vector<float> out(2);
    copy_window(image.data(), 1, 2, 3, 1, 1, 1, 2, f, out.data());
    REQUIRE(out == std::vector<float>{5, 6});
  }
  SECTION("window hanging off the bottom right") {
    std::vector<float> out(4);
    copy_window(image.data(), 1, 2, 3, 1, 2, 2, 2, f, out.data());
    REQUIRE(out == std::vector<float>{6, f, f, f});
  }
  SECTION("window entirely outside") {
    std::vector<float> out(2);
    copy_window(image.data(), 1, 2, 3, 0, 5, 1, 2, f, out.data());
    REQUIRE(out == std::vector<float>{f, f});
  }
  SECTION("every channel") {
    const std::vector<float> two = {1, 2, 3, 4, 10, 20, 30, 40};  // 2 channels of 2×2
    std::vector<float> out(2 * 1 * 3);
    copy_window(two.data(), 2, 2, 2, 1, -1, 1, 3, f, out.data());
    REQUIRE(out == std::vector<float>{f, 3, 4, f, 30, 40});
  }
}

TEST_CASE("flip_horizontal mirrors rows", "[augment]") {
  std::vector<float> image = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // 2 channels × 2 × 3
  flip_horizontal(image.data(), 2, 2, 3);
  REQUIRE(image == std::vector<float>{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10});
}

TEST_CASE("bilinear resize: hand-computed weights", "[augment][resize]") {
  SECTION("shrink 4 -> 2 widens the triangle (antialiasing)") {
    // Output 0 centres at input 1.0 with half-width 2: weights .75, .75, .25 over pixels 0..2.
    const std::vector<float> row = {0, 4, 8, 16};
    const auto out = resize_bilinear(row.data(), 1, 1, 4, 1, 2);
    REQUIRE(out[0] == Approx((0.75 * 0 + 0.75 * 4 + 0.25 * 8) / 1.75));
    REQUIRE(out[1] == Approx((0.25 * 4 + 0.75 * 8 + 0.75 * 16) / 1.75));
  }
  SECTION("grow 2 -> 4 is plain bilinear with clamped edges") {
    const std::vector<float> row = {10, 20};
    const auto out = resize_bilinear(row.data(), 1, 1, 2, 1, 4);
    REQUIRE(out[0] == Approx(10));
    REQUIRE(out[1] == Approx(12.5));
    REQUIRE(out[2] == Approx(17.5));
    REQUIRE(out[3] == Approx(20));
  }
  SECTION("2-D grow is the product of the axis weights") {
    const std::vector<float> image = {0, 4, 8, 12};
    const auto out = resize_bilinear(image.data(), 1, 2, 2, 4, 4);
    const double w[4][2] = {{1, 0}, {0.75, 0.25}, {0.25, 0.75}, {0, 1}};
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) {
        double expected = 0;
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 2; ++j) expected += w[y][i] * w[x][j] * image[i * 2 + j];
        REQUIRE(out[y * 4 + x] == Approx(expected));
      }
    REQUIRE(out[1 * 4 + 2] == Approx(5.0));  // .75·(.25·0 + .75·4) + .25·(.25·8 + .75·12)
  }
  SECTION("STL-10 96 -> 64: first outputs by hand, constant planes stay constant") {
    std::vector<float> row(96);
    for (int i = 0; i < 96; ++i) row[i] = static_cast<float>(i * i % 17);
    const auto out = resize_bilinear(row.data(), 1, 1, 96, 1, 64);
    // Scale 1.5: output 0 centres at 0.75 (weights 5/6, 1/2 -> 0.625, 0.375); output 1 at 2.25.
    REQUIRE(out[0] == Approx(0.625 * row[0] + 0.375 * row[1]));
    REQUIRE(out[1] == Approx(row[1] / 3.0 + 5.0 * row[2] / 9.0 + row[3] / 9.0));
    const std::vector<float> flat(3 * 96 * 96, 0.25f);
    for (float v : resize_bilinear(flat.data(), 3, 96, 96, 64, 64)) REQUIRE(v == Approx(0.25f));
  }
  SECTION("same size is the identity") {
    const std::vector<float> image = {1, 2, 3, 4, 5, 6};
    REQUIRE(resize_bilinear(image.data(), 1, 2, 3, 2, 3) == image);
  }
}

TEST_CASE("Augmenter: pad 28 -> 32 puts the image in the middle of a black frame", "[augment]") {
  const auto image = pattern_image(0, 1, 28, 28);
  AugmentConfig config;
  config.pad_to = 32;
  const Augmenter augmenter(1, 28, 28, config, 7);
  REQUIRE(augmenter.out_height() == 32);
  std::vector<float> out(augmenter.out_size());
  Augmenter::Scratch scratch;
  augmenter.apply(image.data(), 0, 0, out.data(), scratch);
  const auto expected = scaled(image);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) {
      const bool inside = y >= 2 && y < 30 && x >= 2 && x < 30;
      REQUIRE(out[y * 32 + x] == (inside ? expected[(y - 2) * 28 + (x - 2)] : -1.0f));
    }
}

TEST_CASE("Augmenter: random crop with padding and flips cover every offset, deterministically", "[augment]") {
  const int side = 8, p = 2;
  const auto image = pattern_image(4, 3, side, side);
  const auto source = scaled(image);
  AugmentConfig config;
  config.crop_padding = p;
  config.hflip = true;
  const Augmenter augmenter(3, side, side, config, 1234);
  Augmenter::Scratch scratch;
  std::map<std::pair<int, int>, int> offsets;
  int flips = 0;
  const int draws = 2000;
  std::vector<float> out(augmenter.out_size()), candidate(augmenter.out_size());
  for (int index = 0; index < draws; ++index) {
    augmenter.apply(image.data(), 3, static_cast<std::uint64_t>(index), out.data(), scratch);
    // Find the one (top, left, flip) that explains the output.
    int matches = 0;
    for (int top = -p; top <= p; ++top)
      for (int left = -p; left <= p; ++left)
        for (int flip = 0; flip < 2; ++flip) {
          copy_window(source.data(), 3, side, side, top, left, side, side, -1.0f, candidate.data());
          if (flip) flip_horizontal(candidate.data(), 3, side, side);
          if (candidate == out) {
            ++matches;
            ++offsets[{top, left}];
            flips += flip;
          }
        }
    REQUIRE(matches == 1);
  }
  REQUIRE(offsets.size() == 25);  // all (2p+1)² offsets occur
  for (const auto& [offset, count] : offsets) REQUIRE(count > draws / 25 / 3);
  REQUIRE(flips > draws / 2 - 150);
  REQUIRE(flips < draws / 2 + 150);

  // Same (seed, epoch, index): same output; another epoch or seed: other choices.
  std::vector<float> again(out.size()), other_epoch(out.size()), other_seed(out.size());
  int differ_epoch = 0, differ_seed = 0;
  const Augmenter reseeded(3, side, side, config, 1235);
  for (int index = 0; index < 50; ++index) {
    augmenter.apply(image.data(), 3, index, out.data(), scratch);
    augmenter.apply(image.data(), 3, index, again.data(), scratch);
    REQUIRE(out == again);
    augmenter.apply(image.data(), 4, index, other_epoch.data(), scratch);
    reseeded.apply(image.data(), 3, index, other_seed.data(), scratch);
    differ_epoch += out != other_epoch;
    differ_seed += out != other_seed;
  }
  REQUIRE(differ_epoch > 40);  // 1/50 chance each of repeating the same choice
  REQUIRE(differ_seed > 40);
}

TEST_CASE("Augmenter: resize then random crop", "[augment]") {
  const auto image = pattern_image(9, 3, 96, 96);
  AugmentConfig config;
  config.resize_to = 64;
  config.crop_to = 60;
  const Augmenter augmenter(3, 96, 96, config, 5);
  REQUIRE(augmenter.out_height() == 60);
  REQUIRE(augmenter.out_width() == 60);
  const auto source = scaled(image);
  const auto resized = resize_bilinear(source.data(), 3, 96, 96, 64, 64);
  std::vector<float> out(augmenter.out_size()), candidate(out.size());
  Augmenter::Scratch scratch;
  augmenter.apply(image.data(), 0, 17, out.data(), scratch);
  int matches = 0;
  for (int top = 0; top <= 4; ++top)
    for (int left = 0; left <= 4; ++left) {
      copy_window(resized.data(), 3, 64, 64, top, left, 60, 60, 0, candidate.data());
      matches += candidate == out;
    }
  REQUIRE(matches == 1);
}

TEST_CASE("Augmenter: configurations that do not fit are rejected", "[augment]") {
  AugmentConfig pad;
  pad.pad_to = 20;
  REQUIRE_THROWS_WITH(Augmenter(1, 28, 28, pad, 0), Catch::Contains("pad_to 20 is smaller than the 28x28 image"));
  AugmentConfig crop;
  crop.crop_to = 40;
  REQUIRE_THROWS_WITH(Augmenter(3, 32, 32, crop, 0), Catch::Contains("crop_to 40 does not fit the 32x32 image"));
  AugmentConfig none;
  const Augmenter identity(3, 4, 4, none, 0);
  const auto image = pattern_image(1, 3, 4, 4);
  std::vector<float> out(identity.out_size());
  Augmenter::Scratch scratch;
  identity.apply(image.data(), 0, 0, out.data(), scratch);
  REQUIRE(out == scaled(image));
}

TEST_CASE("CounterRng: pure function of its key, uniform below(n)", "[augment][rng]") {
  CounterRng a(1, 2, 3), b(1, 2, 3), c(1, 2, 4), d(1, 3, 3), e(2, 2, 3);
  const auto first = a.next();
  REQUIRE(first == b.next());
  REQUIRE(first != c.next());
  REQUIRE(first != d.next());
  REQUIRE(first != e.next());
  CounterRng rng(0, 0, 0);
  std::vector<int> counts(7, 0);
  const int draws = 70000;
  for (int i = 0; i < draws; ++i) {
    const auto v = rng.below(7);
    REQUIRE(v < 7);
    ++counts[v];
  }
  // Chi-square with 6 degrees of freedom: 22.5 is the 0.999 quantile.
  double chi2 = 0;
  for (int count : counts) chi2 += (count - draws / 7.0) * (count - draws / 7.0) / (draws / 7.0);
  REQUIRE(chi2 < 22.5);
}
