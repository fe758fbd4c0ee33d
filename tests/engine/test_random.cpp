// The counter-based generator: published Philox4x32-10 answers, reproducibility, independence
// of threading.
#include <omp.h>

#include "engine/philox.h"
#include "engine/random.h"
#include "helpers.h"

using namespace imx;

TEST_CASE("Philox4x32-10 known answers (Salmon et al.'s test vectors)", "[random]") {
  auto run = [](philox::Block ctr, uint32_t k0, uint32_t k1) { return philox::philox4x32_10(ctr, k0, k1); };
  const auto zero = run({{0, 0, 0, 0}}, 0, 0);
  CHECK(zero.v[0] == 0x6627e8d5u);
  CHECK(zero.v[1] == 0xe169c58du);
  CHECK(zero.v[2] == 0xbc57ac4cu);
  CHECK(zero.v[3] == 0x9b00dbd8u);
  const auto ones = run({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  CHECK(ones.v[0] == 0x408f276du);
  CHECK(ones.v[1] == 0x41c83b0eu);
  CHECK(ones.v[2] == 0xa20bc7c6u);
  CHECK(ones.v[3] == 0x6d5451fdu);
  const auto pi = run({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  CHECK(pi.v[0] == 0xd16cfe09u);
  CHECK(pi.v[1] == 0x94fdccebu);
  CHECK(pi.v[2] == 0x5001e420u);
  CHECK(pi.v[3] == 0x24126ea1u);
}

TEST_CASE("same seed, same tensors; the stream does not depend on thread count", "[random]") {
  Generator a(99), b(99);
  const auto x = uniform({1000, 70}, -1, 1, a).to_vector();
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto y = uniform({1000, 70}, -1, 1, b).to_vector();
  omp_set_num_threads(threads);
  CHECK(x == y);
  const auto z = uniform({1000, 70}, -1, 1, a).to_vector();  // the next draw differs
  CHECK(x != z);
}

TEST_CASE("uniform values are in range with the right mean", "[random]") {
  Generator g(5);
  const auto v = uniform({200000}, 2, 4, g, DType::F64).to_vector();
  double s = 0;
  for (double x : v) {
    REQUIRE(x >= 2);
    REQUIRE(x < 4);
    s += x;
  }
  // standard error of the mean: (2/sqrt(12))/sqrt(2e5) ~ 1.3e-3
  CHECK(std::abs(s / v.size() - 3) < 8e-3);
}
