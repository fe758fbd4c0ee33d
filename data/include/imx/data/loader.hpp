#pragma once
// The input pipeline: worker threads decode and augment images into float batches ahead of
// the consumer, through a bounded window of ready batches. Batches come out in a fixed order
// for a given seed (workers fill numbered slots), so training runs are reproducible.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "imx/data/augment.hpp"
#include "imx/data/dataset.hpp"
#include "imx/data/host_allocator.hpp"

namespace imx::data {

struct LoaderOptions {
  std::size_t batch_size = 64;
  bool shuffle = true;              // new permutation every epoch, from (seed, epoch)
  bool drop_last = true;            // drop the last partial batch (the reference code does)
  unsigned workers = 2;             // background threads (at least 1)
  std::size_t prefetch = 4;         // most batches built ahead of the consumer
  std::uint64_t seed = 0;
  // Sequence number of the first batch, epoch * batches_per_epoch() + position: a resumed
  // training run starts where it stopped, with the same orders and augmentations.
  std::uint64_t start_batch = 0;
  // Data parallelism: the epoch is cut into global batches of shards * batch_size images (the
  // batches a single process of that batch size would see), and this loader yields shard
  // `shard`'s contiguous batch_size of each. Augmentations depend on (epoch, image) only, so a
  // sharded run sees exactly the images of the single-process run.
  std::size_t shards = 1;
  std::size_t shard = 0;
  AugmentConfig augment{};
  // Where batch memory comes from; null = a PoolAllocator over AlignedAllocator. Pass a
  // PoolAllocator over PinnedAllocator for CUDA training.
  std::shared_ptr<HostAllocator> allocator;
};

struct Batch {
  HostBuffer images;                   // n × c × h × w float32 in [-1, 1]
  std::vector<std::int32_t> labels;    // n
  std::vector<std::uint32_t> indices;  // n: each image's index in the data set
  int n = 0, c = 0, h = 0, w = 0;
  std::uint64_t epoch = 0;
  std::size_t number = 0;  // position in the epoch: 0 .. batches_per_epoch()-1
};

class Loader {
 public:
  // `data` must outlive the loader. Throws DataError when the options do not fit the data
  // (no image, batch_size 0, fewer images than one batch with drop_last, a bad augmentation).
  Loader(const Dataset& data, LoaderOptions options);
  ~Loader();  // stops and joins the workers, even when batches are still pending
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch of the current epoch, or nullopt once the epoch is exhausted; the call
  // after a nullopt starts the next epoch. An exception thrown by a worker while building a
  // batch is rethrown here, when that batch is due.
  std::optional<Batch> next();

  std::size_t batches_per_epoch() const { return batches_per_epoch_; }
  std::uint64_t epoch() const { return epoch_of(consumed_); }  // epoch of the next batch
  int out_channels() const { return augmenter_.channels(); }
  int out_height() const { return augmenter_.out_height(); }
  int out_width() const { return augmenter_.out_width(); }

  // The image order of an epoch (a pure function of seed and epoch).
  std::vector<std::uint32_t> epoch_order(std::uint64_t epoch) const;

 private:
  struct Ready {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  std::uint64_t epoch_of(std::uint64_t sequence) const { return sequence / batches_per_epoch_; }
  std::shared_ptr<const std::vector<std::uint32_t>> order_for(std::uint64_t epoch);
  Batch build(std::uint64_t sequence, Augmenter::Scratch& scratch, std::vector<std::uint8_t>& pixels);
  void work();

  const Dataset& data_;
  LoaderOptions options_;
  Augmenter augmenter_;
  std::size_t batches_per_epoch_;

  std::mutex mutex_;
  std::condition_variable wake_workers_, wake_consumer_;
  bool stopping_ = false;
  std::uint64_t claimed_ = 0;   // next batch sequence number a worker will take
  std::uint64_t consumed_ = 0;  // next sequence number the consumer will take
  bool epoch_end_pending_ = false;
  std::exception_ptr failure_;  // a worker's error, rethrown by every later next()
  std::map<std::uint64_t, Ready> ready_;
  std::map<std::uint64_t, std::shared_ptr<const std::vector<std::uint32_t>>> orders_;
  std::vector<std::thread> workers_;
};

}  // namespace imx::data
