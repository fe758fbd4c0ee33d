// Bit-reproducibility of the CPU MI kernels: at a fixed thread count, repeated calls give the
// same loss and gradients bit for bit (fixed work-to-slot assignment, fixed-order merges).
#include <catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "tests/mi/mi_test_util.h"

using namespace imx::mi;
using namespace imx::mi::test;

namespace {

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE("fused, unfused and from_scores repeat bit for bit at 2 threads", "[mi][repro]") {
  // R = 96, C = 1024: with 16-column tiles the fused path has 64 tiles, the unfused path 96 rows.
  const Problem pb{32, 32, 24, 3};
  const Features f = make_features(pb, 8.0, 123);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  const std::vector<float> S = cast<float>(scores_of(pb, f.local, f.global));
  Options opt;
  opt.threads = 2;
  opt.tile_cols = 16;
  for (Estimator e : {Estimator::jsd, Estimator::infonce, Estimator::dv}) {
    for (Impl impl : {Impl::fused, Impl::unfused}) {
      INFO(std::string(estimator_name(e)) + " " + std::string(impl_name(impl)));
      const Outcome<float> first = run<float>(impl, pb, e, L, G, opt);
      for (int rep = 0; rep < 20; ++rep) {
        const Outcome<float> again = run<float>(impl, pb, e, L, G, opt);
        REQUIRE(std::memcmp(&again.loss, &first.loss, sizeof(double)) == 0);
        REQUIRE(same_bits(again.dlocal, first.dlocal));
        REQUIRE(same_bits(again.dglobal, first.dglobal));
      }
    }
    INFO(std::string(estimator_name(e)) + " from_scores");
    std::vector<float> first = S;
    const float loss = from_scores<float>(pb, e, first.data(), true, opt);
    for (int rep = 0; rep < 20; ++rep) {
      std::vector<float> again = S;
      const float l = from_scores<float>(pb, e, again.data(), true, opt);
      REQUIRE(std::memcmp(&l, &loss, sizeof(float)) == 0);
      REQUIRE(same_bits(again, first));
    }
  }
}
