// The input pipeline: coverage of every image per epoch, reshuffling, partial batches,
// determinism across worker counts, error propagation, shutdown, allocators.
#include <catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>

#include "imx/data/image_codec.hpp"
#include "imx/data/loader.hpp"
#include "synthetic_files.hpp"

using namespace imx::data;
using imx::data::testing::pattern_image;

namespace {

// n images of 3×4×5 from the test pattern, label = index % 7.
Dataset pattern_dataset(int n) {
  Dataset data;
  data.name = "pattern";
  data.channels = 3;
  data.height = 4;
  data.width = 5;
  for (int i = 0; i < n; ++i) {
    const auto image = pattern_image(i, 3, 4, 5);
    data.pixels.insert(data.pixels.end(), image.begin(), image.end());
    data.labels.push_back(i % 7);
  }
  data.class_names = {"0", "1", "2", "3", "4", "5", "6"};
  return data;
}

// One epoch's batches; requires the epoch to end with nullopt.
std::vector<Batch> take_epoch(Loader& loader) {
  std::vector<Batch> batches;
  while (auto batch = loader.next()) batches.push_back(std::move(*batch));
  return batches;
}

std::vector<std::uint32_t> indices_of(const std::vector<Batch>& batches) {
  std::vector<std::uint32_t> all;
  for (const auto& b : batches) all.insert(all.end(), b.indices.begin(), b.indices.end());
  return all;
}

}  // namespace

TEST_CASE("Loader delivers every image once per epoch, reshuffled, with the last partial batch", "[loader]") {
  const Dataset data = pattern_dataset(103);
  LoaderOptions options;
  options.batch_size = 10;
  options.drop_last = false;
  options.workers = 2;
  options.seed = 99;
  Loader loader(data, options);
  REQUIRE(loader.batches_per_epoch() == 11);
  std::vector<std::vector<std::uint32_t>> orders;
  for (std::uint64_t epoch = 0; epoch < 3; ++epoch) {
    REQUIRE(loader.epoch() == epoch);
    const auto batches = take_epoch(loader);
    REQUIRE(batches.size() == 11);
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const Batch& batch = batches[b];
      REQUIRE(batch.epoch == epoch);
      REQUIRE(batch.number == b);
      REQUIRE(batch.n == (b == 10 ? 3 : 10));
      REQUIRE(batch.c == 3);
      REQUIRE(batch.h == 4);
      REQUIRE(batch.w == 5);
      REQUIRE(batch.images.size() == static_cast<std::size_t>(batch.n) * 60);
      for (int j = 0; j < batch.n; ++j) {
        const std::uint32_t index = batch.indices[j];
        REQUIRE(batch.labels[j] == data.labels[index]);
        // Spot-check the pixels: image `index` scaled to [-1, 1].
        for (int p : {0, 17, 59}) REQUIRE(batch.images[j * 60 + p] == Approx(data.pixels[index * 60 + p] / 127.5 - 1).margin(1e-6));
      }
    }
    auto order = indices_of(batches);
    REQUIRE(order == loader.epoch_order(epoch));
    std::sort(order.begin(), order.end());
    for (std::uint32_t i = 0; i < 103; ++i) REQUIRE(order[i] == i);  // each image exactly once
    orders.push_back(indices_of(batches));
  }
  REQUIRE(orders[0] != orders[1]);
  REQUIRE(orders[1] != orders[2]);
}

TEST_CASE("Loader drop_last drops the partial batch; shuffle off keeps file order", "[loader]") {
  const Dataset data = pattern_dataset(25);
  LoaderOptions options;
  options.batch_size = 8;
  options.shuffle = false;
  Loader loader(data, options);
  REQUIRE(loader.batches_per_epoch() == 3);
  for (int epoch = 0; epoch < 2; ++epoch) {
    const auto batches = take_epoch(loader);
    REQUIRE(batches.size() == 3);
    const auto order = indices_of(batches);
    REQUIRE(order.size() == 24);
    for (std::uint32_t i = 0; i < 24; ++i) REQUIRE(order[i] == i);
  }
}

TEST_CASE("Loader output does not depend on the number of workers", "[loader]") {
  const Dataset data = pattern_dataset(50);
  LoaderOptions options;
  options.batch_size = 7;
  options.drop_last = false;
  options.seed = 3;
  options.augment.crop_padding = 1;
  options.augment.hflip = true;
  auto run = [&](unsigned workers, std::uint64_t seed) {
    LoaderOptions o = options;
    o.workers = workers;
    o.seed = seed;
    Loader loader(data, o);
    std::vector<float> pixels;
    std::vector<std::uint32_t> order;
    for (int epoch = 0; epoch < 2; ++epoch)
      for (const auto& batch : take_epoch(loader)) {
        pixels.insert(pixels.end(), batch.images.begin(), batch.images.end());
        order.insert(order.end(), batch.indices.begin(), batch.indices.end());
      }
    return std::make_pair(pixels, order);
  };
  const auto one = run(1, 3), three = run(3, 3), other_seed = run(2, 4);
  REQUIRE(one.second == three.second);
  REQUIRE(one.first == three.first);
  REQUIRE(one.second != other_seed.second);
}

TEST_CASE("Loader rethrows a worker's error, with its message, when that batch is due", "[loader]") {
  // Deferred decoding: 12 PNG images, number 9 corrupt.
  Dataset data;
  data.name = "pngs";
  data.channels = 1;
  data.height = data.width = 4;
  data.class_names = {"x"};
  for (int i = 0; i < 12; ++i) {
    const auto image = pattern_image(i, 1, 4, 4);
    auto png = encode_png(image.data(), 1, 4, 4);
    if (i == 9) png.resize(png.size() - 10);
    data.encoded.push_back(png);
    data.encoded_sources.push_back("img" + std::to_string(i) + ".png");
    data.labels.push_back(0);
  }
  LoaderOptions options;
  options.batch_size = 4;
  options.shuffle = false;
  options.workers = 2;
  Loader loader(data, options);
  auto first = loader.next();
  REQUIRE(first);
  REQUIRE(first->images[16 + 5] == Approx(pattern_image(1, 1, 4, 4)[5] / 127.5 - 1).margin(1e-6));  // decoded by a worker
  REQUIRE(loader.next());
  REQUIRE_THROWS_WITH(loader.next(), Catch::Contains("img9.png") && Catch::Contains("corrupt image"));
  REQUIRE_THROWS_WITH(loader.next(), Catch::Contains("img9.png"));  // the failure sticks
}

TEST_CASE("Loader shuts down cleanly when the consumer stops early", "[loader]") {
  const Dataset data = pattern_dataset(200);
  for (unsigned workers : {1u, 4u}) {
    LoaderOptions options;
    options.batch_size = 5;
    options.workers = workers;
    options.prefetch = 2;
    { Loader untouched(data, options); }
    Loader loader(data, options);
    REQUIRE(loader.next());
    // Destruction with workers blocked on the full window must not hang.
  }
}

TEST_CASE("Loader rejects options that do not fit", "[loader]") {
  const Dataset data = pattern_dataset(5);
  LoaderOptions options;
  options.batch_size = 8;
  REQUIRE_THROWS_WITH(Loader(data, options), Catch::Contains("5 images make no full batch of 8"));
  options.batch_size = 0;
  REQUIRE_THROWS_WITH(Loader(data, options), Catch::Contains("batch_size must be at least 1"));
  Dataset broken = pattern_dataset(3);
  broken.labels[1] = 7;
  options.batch_size = 1;
  REQUIRE_THROWS_WITH(Loader(broken, options), Catch::Contains("label 7 of image 1 out of range"));
}

namespace {
class CountingAllocator final : public HostAllocator {
 public:
  void* allocate(std::size_t bytes) override {
    ++allocations;
    return inner.allocate(bytes);
  }
  void deallocate(void* p, std::size_t bytes) noexcept override {
    ++releases;
    inner.deallocate(p, bytes);
  }
  std::string name() const override { return "counting"; }
  std::atomic<int> allocations{0}, releases{0};
  AlignedAllocator inner;
};
}  // namespace

TEST_CASE("Batches come from the given allocator; the pool reuses blocks", "[loader][allocator]") {
  const Dataset data = pattern_dataset(64);
  auto counting = std::make_shared<CountingAllocator>();
  {
    LoaderOptions options;
    options.batch_size = 4;
    options.prefetch = 2;
    options.allocator = std::make_shared<PoolAllocator>(counting);
    Loader loader(data, options);
    for (int epoch = 0; epoch < 3; ++epoch)
      while (auto batch = loader.next()) REQUIRE(batch->images.size() == 4 * 60);
    // 48 batches went through, but at most the window of 2 plus the consumer's one are alive at
    // a time, so the pool needs only a handful of blocks.
    REQUIRE(counting->allocations > 0);
    REQUIRE(counting->allocations <= 5);
  }
  REQUIRE(counting->releases == counting->allocations.load());  // all returned upstream

  AlignedAllocator aligned;
  void* p = aligned.allocate(100);
  REQUIRE(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
  aligned.deallocate(p, 100);

  // Without a CUDA device the pinned allocator falls back to aligned memory and says so.
  PinnedAllocator pinned;
  HostBuffer buffer(1000, std::make_shared<PinnedAllocator>());
  REQUIRE(reinterpret_cast<std::uintptr_t>(buffer.data()) % 64 == 0);
  buffer[999] = 1.5f;
  REQUIRE(buffer[999] == 1.5f);
  WARN("PinnedAllocator: " << pinned.name());
}

TEST_CASE("Loader shards: the shards of each batch are the single-process batch, cut in order", "[loader]") {
  const Dataset data = pattern_dataset(50);
  LoaderOptions whole;
  whole.batch_size = 12;
  whole.seed = 5;
  whole.augment.crop_padding = 1;
  whole.augment.hflip = true;
  for (bool drop_last : {true, false}) {
    whole.drop_last = drop_last;
    Loader single(data, whole);
    std::vector<Loader*> shards;
    std::vector<std::unique_ptr<Loader>> owned;
    for (std::size_t s = 0; s < 3; ++s) {
      LoaderOptions o = whole;
      o.batch_size = 4;
      o.shards = 3;
      o.shard = s;
      owned.push_back(std::make_unique<Loader>(data, o));
      REQUIRE(owned.back()->batches_per_epoch() == single.batches_per_epoch());
    }
    for (int epoch = 0; epoch < 2; ++epoch) {
      const auto batches = take_epoch(single);
      std::vector<std::vector<Batch>> parts;
      for (auto& l : owned) parts.push_back(take_epoch(*l));
      for (std::size_t b = 0; b < batches.size(); ++b) {
        std::vector<std::uint32_t> joined;
        std::vector<float> pixels;
        for (const auto& p : parts) {
          joined.insert(joined.end(), p[b].indices.begin(), p[b].indices.end());
          pixels.insert(pixels.end(), p[b].images.begin(), p[b].images.end());
        }
        CHECK(joined == batches[b].indices);
        CHECK(pixels == std::vector<float>(batches[b].images.begin(), batches[b].images.end()));
      }
    }
    if (!drop_last) {  // 50 = 4 batches of 12 + 2: shard 0 gets both, the others none
      LoaderOptions o = whole;
      o.batch_size = 4, o.shards = 3, o.shard = 2;
      Loader last(data, o);
      const auto epoch = take_epoch(last);
      CHECK(epoch.back().n == 0);
    }
  }
  LoaderOptions bad = whole;
  bad.shards = 2, bad.shard = 2;
  CHECK_THROWS_WITH(Loader(data, bad), Catch::Contains("shard 2 of 2 does not exist"));
}
