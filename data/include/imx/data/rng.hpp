#pragma once
// A counter-based random stream: the numbers for (seed, epoch, index, stream) are a pure
// function of those four values, so augmentation and shuffling do not depend on which worker
// thread handles an image or in which order. Built on the splitmix64 generator and finalizer.
#include <cstdint>

namespace imx::data {

// splitmix64's output finalizer: a bijective 64-bit mix.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class CounterRng {
 public:
  CounterRng(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index, std::uint64_t stream = 0) {
    // Chain the key words through the mixer so nearby keys give unrelated streams.
    std::uint64_t h = mix64(seed + kGolden);
    h = mix64(h ^ (epoch + 0x243f6a8885a308d3ull));
    h = mix64(h ^ (index + 0x13198a2e03707344ull));
    state_ = mix64(h ^ (stream + 0xa4093822299f31d0ull));
  }

  std::uint64_t next() {
    state_ += kGolden;
    return mix64(state_);
  }

  // Uniform in [0, n) without modulo bias (multiply-and-reject); n > 0.
  std::uint64_t below(std::uint64_t n) {
    unsigned __int128 product = static_cast<unsigned __int128>(next()) * n;
    auto low = static_cast<std::uint64_t>(product);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        product = static_cast<unsigned __int128>(next()) * n;
        low = static_cast<std::uint64_t>(product);
      }
    }
    return static_cast<std::uint64_t>(product >> 64);
  }

  bool coin() { return (next() >> 63) != 0; }

 private:
  static constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ull;
  std::uint64_t state_;
};

}  // namespace imx::data
