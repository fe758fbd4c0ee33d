// Random tensors from the Philox stream of engine/philox.h, identical to the CPU backend's:
// element i is stream position offset + i. A Philox call yields four positions, so each thread
// generates one block of four and writes the (up to four) elements that fall in the range.
#include <cstdint>

#include "kernels/ops/common.cuh"
#include "kernels/ops/launchers.h"

#include "engine/philox.h"

namespace imx::IMX_KNS {

namespace {

// philox::uniform's mapping of one 32-bit word to [0, 1) (24 bits); the tests check that the
// results equal the CPU backend's bit for bit.
IMX_DEVICE float unit_float(uint32_t word) {
  return static_cast<float>(word >> 8) * (1.0f / 16777216.0f);
}

struct DropoutMap {
  float p, keep;
  IMX_DEVICE float operator()(float u) const { return u >= p ? keep : 0.0f; }
};
// In double like the CPU backend: lo + (hi - lo) * u rounded once to float.
struct UniformMap {
  double lo, hi;
  IMX_DEVICE float operator()(float u) const {
    return static_cast<float>(lo + (hi - lo) * static_cast<double>(u));
  }
};

// Thread t handles Philox block first_block + t: positions 4q .. 4q + 3.
template <class Map>
IMX_KERNEL void philox_kernel(uint64_t seed, uint64_t offset, int64_t n, Map map, float* out) {
  const uint64_t first_block = offset >> 2;
  const int64_t blocks = static_cast<int64_t>(((offset + n - 1) >> 2) - first_block + 1);
  for_each_item<ThreadUnit>(blocks, [&](int64_t t) {
    const uint64_t q = first_block + static_cast<uint64_t>(t);
    const philox::Block words = philox::generate(seed, q);
    for (int w = 0; w < 4; ++w) {
      const uint64_t position = 4 * q + static_cast<uint64_t>(w);
      if (position < offset || position - offset >= static_cast<uint64_t>(n)) continue;
      out[position - offset] = map(unit_float(words.v[w]));
    }
  });
}

template <class Map>
void launch_philox(uint64_t seed, uint64_t offset, int64_t n, Map map, float* out,
                   cudaStream_t stream) {
  if (n <= 0) return;
  const int64_t blocks = static_cast<int64_t>(((offset + n - 1) >> 2) - (offset >> 2) + 1);
  IMX_LAUNCH((philox_kernel<Map>), blocks_for(blocks, kBlock), kBlock, 0, stream)(seed, offset, n, map, out);
}

}  // namespace

void dropout_mask(uint64_t seed, uint64_t offset, float p, float* mask, int64_t n,
                  cudaStream_t stream) {
  // The CPU backend computes the kept scale in double from its double p; with p a float the
  // two agree exactly whenever the caller's p is a float value (0.1 is not: 1 ulp apart).
  const float keep = static_cast<float>(1.0 / (1.0 - static_cast<double>(p)));
  launch_philox(seed, offset, n, DropoutMap{p, keep}, mask, stream);
}

void uniform(uint64_t seed, uint64_t offset, double lo, double hi, float* out, int64_t n,
             cudaStream_t stream) {
  launch_philox(seed, offset, n, UniformMap{lo, hi}, out, stream);
}

}  // namespace imx::IMX_KNS
