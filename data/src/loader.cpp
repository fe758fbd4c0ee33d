#include "imx/data/loader.hpp"

#include <algorithm>
#include <numeric>

#include "checks.hpp"
#include "imx/data/rng.hpp"

namespace imx::data {
using detail::cat;

namespace {
// Stream id of the shuffling draws, distinct from the per-image augmentation streams.
constexpr std::uint64_t kShuffleStream = 0x5348554646ull;  // "SHUFF"

std::size_t count_batches(const Dataset& data, const LoaderOptions& options) {
  if (data.size() == 0) throw DataError(cat(data.name, ": loader: the data set holds no images"));
  if (data.size() > 0xffffffffull) throw DataError(cat(data.name, ": loader: more than 2^32 images"));
  if (options.batch_size == 0) throw DataError("loader: batch_size must be at least 1");
  if (options.workers == 0) throw DataError("loader: workers must be at least 1");
  if (options.prefetch == 0) throw DataError("loader: prefetch must be at least 1");
  if (options.shards == 0 || options.shard >= options.shards)
    throw DataError(cat("loader: shard ", options.shard, " of ", options.shards, " does not exist"));
  const std::size_t global = options.batch_size * options.shards;
  const std::size_t full = data.size() / global;
  const std::size_t batches = options.drop_last ? full : (data.size() + global - 1) / global;
  if (batches == 0)
    throw DataError(cat(data.name, ": loader: ", data.size(), " images make no full batch of ", global,
                        " and drop_last is set"));
  return batches;
}

const Dataset& checked(const Dataset& data) {
  data.check_consistent();
  return data;
}
}  // namespace

Loader::Loader(const Dataset& data, LoaderOptions options)
    : data_(checked(data)),
      options_(std::move(options)),
      augmenter_(data.channels, data.height, data.width, options_.augment, options_.seed),
      batches_per_epoch_(count_batches(data, options_)) {
  if (!options_.allocator) options_.allocator = std::make_shared<PoolAllocator>(std::make_shared<AlignedAllocator>());
  claimed_ = consumed_ = options_.start_batch;  // a resumed run continues the same sequence
  for (unsigned t = 0; t < options_.workers; ++t) workers_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_workers_.notify_all();
  for (auto& worker : workers_) worker.join();
}

std::vector<std::uint32_t> Loader::epoch_order(std::uint64_t epoch) const {
  std::vector<std::uint32_t> order(data_.size());
  std::iota(order.begin(), order.end(), 0u);
  if (options_.shuffle) {
    CounterRng rng(options_.seed, epoch, 0, kShuffleStream);
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  }
  return order;
}

std::shared_ptr<const std::vector<std::uint32_t>> Loader::order_for(std::uint64_t epoch) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = orders_.find(epoch); it != orders_.end()) return it->second;
  }
  auto order = std::make_shared<const std::vector<std::uint32_t>>(epoch_order(epoch));  // outside the lock
  std::lock_guard lock(mutex_);
  // Batches in flight all belong to the consumer's epoch or later; older orders can go.
  std::erase_if(orders_, [&](const auto& entry) { return entry.first < epoch_of(consumed_); });
  return orders_.emplace(epoch, std::move(order)).first->second;  // keeps the first one inserted
}

Batch Loader::build(std::uint64_t sequence, Augmenter::Scratch& scratch, std::vector<std::uint8_t>& pixels) {
  Batch batch;
  batch.epoch = epoch_of(sequence);
  batch.number = static_cast<std::size_t>(sequence % batches_per_epoch_);
  const auto order = order_for(batch.epoch);
  // This shard's part of the global batch; the last batch without drop_last may leave a shard
  // fewer images, or none.
  const std::size_t begin =
      std::min(data_.size(), (batch.number * options_.shards + options_.shard) * options_.batch_size);
  const std::size_t n = std::min(options_.batch_size, data_.size() - begin);
  const std::size_t image_floats = augmenter_.out_size();
  batch.n = static_cast<int>(n);
  batch.c = augmenter_.channels();
  batch.h = augmenter_.out_height();
  batch.w = augmenter_.out_width();
  batch.images = HostBuffer(n * image_floats, options_.allocator);
  batch.labels.resize(n);
  batch.indices.resize(n);
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint32_t index = (*order)[begin + j];
    const std::uint8_t* image = pixels.data();
    if (data_.is_encoded())
      data_.copy_image(index, pixels.data());  // decodes on this worker
    else
      image = data_.pixels.data() + index * data_.image_bytes();
    augmenter_.apply(image, batch.epoch, index, batch.images.data() + j * image_floats, scratch);
    batch.labels[j] = data_.labels[index];
    batch.indices[j] = index;
  }
  return batch;
}

void Loader::work() {
  Augmenter::Scratch scratch;
  std::vector<std::uint8_t> pixels(data_.image_bytes());
  for (;;) {
    std::uint64_t sequence;
    {
      std::unique_lock lock(mutex_);
      wake_workers_.wait(lock, [&] { return stopping_ || claimed_ < consumed_ + options_.prefetch; });
      if (stopping_) return;
      sequence = claimed_++;
    }
    Ready ready;
    try {
      ready.batch = build(sequence, scratch, pixels);
    } catch (...) {
      ready.error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      ready_.emplace(sequence, std::move(ready));
    }
    wake_consumer_.notify_one();
  }
}

std::optional<Batch> Loader::next() {
  if (failure_) std::rethrow_exception(failure_);
  if (epoch_end_pending_) {
    epoch_end_pending_ = false;
    return std::nullopt;
  }
  std::unique_lock lock(mutex_);
  wake_consumer_.wait(lock, [&] { return ready_.count(consumed_) != 0; });
  auto node = ready_.extract(consumed_);
  ++consumed_;
  lock.unlock();
  wake_workers_.notify_all();
  Ready& ready = node.mapped();
  if (ready.error) {
    failure_ = ready.error;
    std::rethrow_exception(failure_);
  }
  if (ready.batch->number + 1 == batches_per_epoch_) epoch_end_pending_ = true;
  return std::move(ready.batch);
}

}  // namespace imx::data
