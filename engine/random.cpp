#include "engine/random.h"

#include "engine/backend.h"

namespace imx {

namespace {
uint64_t splitmix64(uint64_t x) {  // a bijective 64-bit mixer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

Generator stream_generator(uint64_t seed, uint64_t stream, uint64_t index) {
  return Generator(splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ index));
}

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype,
               Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  backend(device).uniform(gen.seed(), gen.advance(t.numel()), lo, hi, t);
  return t;
}

}  // namespace imx
