// A seeded position in the Philox stream. Each draw takes the next numel() positions, so the
// same seed and the same sequence of draws give the same tensors on every device.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace imx {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t offset) { offset_ = offset; }  // restoring a checkpointed stream
  // Reserves n stream positions and returns the first.
  uint64_t advance(uint64_t n) {
    const uint64_t at = offset_;
    offset_ += (n + 3) / 4 * 4;  // whole Philox blocks, so draws never share a block
    return at;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The generator of draw `index` (e.g. a training step) of one stream of a run (prior samples,
// occlusion masks): a function of (seed, stream, index) alone, so a resumed run draws exactly
// what an uninterrupted one would. Different triples give unrelated Philox keys.
Generator stream_generator(uint64_t seed, uint64_t stream, uint64_t index);

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype = DType::F32,
               Device device = Device::CPU);

}  // namespace imx
