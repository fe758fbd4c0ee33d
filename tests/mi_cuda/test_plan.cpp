// The launch plan (losses/mi_cuda/plan.cu): how many blocks each kernel of a call gets, and
// that the kernels stay correct with the small (32 x 32) sweep tiles the plan picks for small
// problems. The plan is host logic shared by both builds; it is checked here against the
// emulated build, where the kernels it configures also run.
#include "tests/mi_cuda/mi_cuda_test_util.h"

#include "losses/mi_cuda/plan.h"

namespace imx::mi::cuda_test {
namespace {

constexpr int64_t kSMs = 132;  // an H200

TEST_CASE("the plan fills 132 SMs at B=64 P=64 D=512 and at B=512 P=225 D=2048", "[mi_cuda][plan]") {
  for (const Problem pb : {Problem{64, 64, 512, 1}, Problem{512, 225, 2048, 1}}) {
    for (Estimator e : {Estimator::jsd, Estimator::infonce}) {
      for (dev::Path path : {dev::Path::fused, dev::Path::unfused}) {
        INFO(estimator_name(e) << " " << pb.to_string() << (path == dev::Path::fused ? " fused" : " unfused"));
        const dev::Plan plan = dev::make_plan(path, pb, e, /*with_grads=*/true, {});
        CHECK(dev::sweep_blocks(plan) >= kSMs);
        CHECK(dev::dl_blocks(plan) >= kSMs);
        CHECK(dev::dg_blocks(plan) >= kSMs);
        const dev::Plan forward = dev::make_plan(path, pb, e, /*with_grads=*/false, {});
        CHECK(dev::sweep_blocks(forward) >= kSMs);
      }
    }
  }
  // B = 64, P = 64: one row of 64 tiles of 64 x 64 would be 64 blocks; 32 x 32 tiles give
  // 2 x 128 = 256. B = 512 fills the device with 64 x 64 tiles (8 row tiles x 66 splits).
  const dev::Plan small = dev::make_plan(dev::Path::fused, {64, 64, 512, 1}, Estimator::jsd, true, {});
  CHECK(small.sweep_micro == dev::kSmallMicro);
  CHECK(small.row_tiles == 2);
  CHECK(small.splits == 128);
  // dG = dS L is 64 x 512 (8 tiles): 18 depth splits of 240 columns, not 16 (128 blocks).
  CHECK(small.dg_splits == 18);
  CHECK(small.dg_split_depth == 240);
  const dev::Plan large = dev::make_plan(dev::Path::fused, {512, 225, 2048, 1}, Estimator::jsd, true, {});
  CHECK(large.sweep_micro == dev::kMicro);
  CHECK(dev::sweep_blocks(large) == 8 * 66);

  // The tensor-core sweep has no 32 x 32 tile: at B=64 P=64 (64 blocks of 64 x 64) the plan
  // runs the exact float32 32 x 32 sweep instead (256 blocks); sweep_tile 64 keeps the
  // tensor-core one, and asking it for 32 is refused.
  dev::KernelTuning tf32;
  tf32.precision = dev::Precision::tf32;
  const dev::Plan tc_small = dev::make_plan(dev::Path::fused, {64, 64, 512, 1}, Estimator::jsd, true, tf32);
  CHECK(tc_small.sweep_micro == dev::kSmallMicro);
  CHECK(tc_small.sweep_precision == dev::Precision::fp32);
  CHECK(dev::sweep_blocks(tc_small) == 256);
  tf32.sweep_tile = 64;
  const dev::Plan tc_kept = dev::make_plan(dev::Path::fused, {64, 64, 512, 1}, Estimator::jsd, true, tf32);
  CHECK(tc_kept.sweep_precision == dev::Precision::tf32);
  CHECK(dev::sweep_blocks(tc_kept) == 64);
  tf32.sweep_tile = 32;
  CHECK_THROWS_AS(dev::make_plan(dev::Path::fused, {64, 64, 512, 1}, Estimator::jsd, true, tf32),
                  std::invalid_argument);
  tf32.sweep_tile = 0;
  // The unfused path's sweeps read the stored S (exact float32 loads) in any precision.
  CHECK(dev::make_plan(dev::Path::unfused, {64, 64, 512, 1}, Estimator::jsd, true, tf32).sweep_micro ==
        dev::kSmallMicro);
  dev::KernelTuning bad;
  bad.sweep_tile = 48;
  CHECK_THROWS_AS(dev::make_plan(dev::Path::fused, {7, 9, 33, 1}, Estimator::jsd, true, bad), std::invalid_argument);
}

TEST_CASE("tensor-core sweeps and products take 128 x 128 tiles where they still fill the device twice over",
          "[mi_cuda][plan]") {
  for (dev::Precision precision : {dev::Precision::tf32, dev::Precision::bf16}) {
    dev::KernelTuning tc;
    tc.precision = precision;
    for (Estimator e : {Estimator::jsd, Estimator::infonce}) {
      for (bool grads : {true, false}) {
        INFO(estimator_name(e) << " " << dev::precision_name(precision) << (grads ? " with" : " without")
                               << " gradients");
        // B = 512, P = 225, D = 2048: R = 512, C = 115200: 4 row tiles x min(ceil(528 / 4), 900
        // column tiles) = 132 splits = 528 blocks of 128 x 128 (>= 2 x 132).
        const dev::Plan large = dev::make_plan(dev::Path::fused, {512, 225, 2048, 1}, e, grads, tc);
        CHECK(large.sweep_micro == dev::kLargeMicro);
        CHECK(large.row_tiles == 4);
        CHECK(large.splits == 132);
        CHECK(dev::sweep_blocks(large) == 528);
        CHECK(dev::sweep_blocks(large) >= 2 * kSMs);
        // Products: dL (a 16384-column chunk x 2048) is 128 x 16 tiles of 128 x 128 = 2048 blocks;
        // dG (512 x 2048) would be 4 x 16 = 64 < 264, so it keeps 64 x 64 (256 tiles x 3 splits).
        CHECK(large.dl_tile == 128);
        CHECK(large.dg_tile == 64);
        if (grads) {
          CHECK(dev::dl_blocks(large) == 2048);
          CHECK(large.dg_splits == 3);
          CHECK(dev::dg_blocks(large) == 256 * 3);
        }
        // The unfused S (512 x 115200): 4 x 900 tiles of 128 x 128.
        CHECK(dev::make_plan(dev::Path::unfused, {512, 225, 2048, 1}, e, grads, tc).s_tile == 128);
        // B = 384, P = 64, K = 1: 3 row tiles x 176 splits = 528 blocks: 128 x 128.
        const dev::Plan mid = dev::make_plan(dev::Path::fused, {384, 64, 512, 1}, e, grads, tc);
        CHECK(mid.sweep_micro == dev::kLargeMicro);
        CHECK(dev::sweep_blocks(mid) == 3 * 176);
        // B = 256, P = 64, K = 1: the 128 x 128 grid would be 2 row tiles x 128 column tiles =
        // 256 blocks < 264: 64 x 64 (4 x 132 = 528 blocks).
        const dev::Plan below = dev::make_plan(dev::Path::fused, {256, 64, 512, 1}, e, grads, tc);
        CHECK(below.sweep_micro == dev::kMicro);
        CHECK(dev::sweep_blocks(below) == 4 * 132);
        CHECK(below.sweep_precision == tc.precision);  // enough blocks: the tensor-core sweep
        // B = 64, P = 64: one row of 32 tiles of 128, or of 64 tiles of 64: too few for the SMs,
        // so the exact float32 32 x 32 sweep (2 x 128 = 256 blocks); the products keep the
        // tensor cores.
        const dev::Plan small = dev::make_plan(dev::Path::fused, {64, 64, 512, 1}, e, grads, tc);
        CHECK(small.sweep_micro == dev::kSmallMicro);
        CHECK(small.sweep_precision == dev::Precision::fp32);
        CHECK(dev::sweep_blocks(small) == 256);
        // Its dL (4096 x 512) would be 32 x 4 = 128 tiles of 128: 64 x 64 (64 x 8 = 512 blocks).
        CHECK(small.dl_tile == 64);
        CHECK(small.dg_tile == 64);
        if (grads) CHECK(dev::dl_blocks(small) == 512);
        // K = 4 at B = 512, P = 225 (R = 2048): 16 row tiles x 33 splits.
        const dev::Plan deep = dev::make_plan(dev::Path::fused, {512, 225, 512, 4}, e, grads, tc);
        CHECK(deep.sweep_micro == dev::kLargeMicro);
        CHECK(dev::sweep_blocks(deep) == 16 * 33);
        // Forced: 128 at a tiny shape, 64 at the large one.
        dev::KernelTuning forced = tc;
        forced.sweep_tile = 128;
        const dev::Plan tiny = dev::make_plan(dev::Path::fused, {7, 9, 37, 3}, e, grads, forced);
        CHECK(tiny.sweep_micro == dev::kLargeMicro);
        CHECK(tiny.row_tiles == 1);
        forced.sweep_tile = 64;
        CHECK(dev::make_plan(dev::Path::fused, {512, 225, 2048, 1}, e, grads, forced).sweep_micro == dev::kMicro);
        forced.product_tile = 128;
        const dev::Plan tiny_products = dev::make_plan(dev::Path::fused, {7, 9, 37, 3}, e, grads, forced);
        CHECK(tiny_products.dl_tile == 128);
        CHECK(tiny_products.dg_tile == 128);
        forced.product_tile = 64;
        CHECK(dev::make_plan(dev::Path::fused, {512, 225, 2048, 1}, e, grads, forced).dl_tile == 64);
      }
    }
    // The unfused path's sweeps read the stored S (float32 loads): never 128, and refused when
    // forced; so is 128 for fp32.
    CHECK(dev::make_plan(dev::Path::unfused, {512, 225, 2048, 1}, Estimator::jsd, true, tc).sweep_micro == dev::kMicro);
    tc.sweep_tile = 128;
    CHECK_THROWS_AS(dev::make_plan(dev::Path::unfused, {7, 9, 37, 3}, Estimator::jsd, true, tc), std::invalid_argument);
  }
  CHECK(dev::make_plan(dev::Path::fused, {512, 225, 2048, 1}, Estimator::jsd, true, {}).sweep_micro == dev::kMicro);
  const dev::Plan fp32 = dev::make_plan(dev::Path::unfused, {512, 225, 2048, 1}, Estimator::jsd, true, {});
  CHECK((fp32.s_tile == 64 && fp32.dl_tile == 64 && fp32.dg_tile == 64));
  dev::KernelTuning fp32_128;
  fp32_128.sweep_tile = 128;
  CHECK_THROWS_AS(dev::make_plan(dev::Path::fused, {7, 9, 37, 3}, Estimator::jsd, true, fp32_128),
                  std::invalid_argument);
  fp32_128.sweep_tile = 0;
  fp32_128.product_tile = 128;
  CHECK_THROWS_AS(dev::make_plan(dev::Path::fused, {7, 9, 37, 3}, Estimator::jsd, true, fp32_128),
                  std::invalid_argument);
  dev::KernelTuning odd;
  odd.precision = dev::Precision::tf32;
  odd.product_tile = 96;
  CHECK_THROWS_AS(dev::make_plan(dev::Path::fused, {7, 9, 37, 3}, Estimator::jsd, true, odd), std::invalid_argument);
}

TEST_CASE("the small sweep tiles meet the float64 reference at the B=64 P=64 plan", "[mi_cuda][plan]") {
  // The B = 64, P = 64 plan (32 x 32 tiles, 2 x 128 blocks, dG in 18 splits) at a narrow D, so
  // the emulation stays quick; the plan's grid depends on B and P only (and dG's on D / 64).
  const Problem pb = kSanitized ? Problem{8, 9, 5, 2} : Problem{64, 64, 24, 1};
  const Features f = make_features(pb, 8.0, 64);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  const std::vector<Estimator> family = {Estimator::jsd, Estimator::infonce, Estimator::dv};
  for (Estimator e : family) {
    const Outcome<double> ref = reference(pb, e, L, G);
    for (Impl impl : {Impl::fused, Impl::unfused}) {
      INFO(estimator_name(e) << " " << pb.to_string() << " " << impl_label(impl));
      const dev::Plan plan =
          dev::make_plan(impl == Impl::fused ? dev::Path::fused : dev::Path::unfused, pb, e, true, {});
      REQUIRE(plan.sweep_micro == dev::kSmallMicro);
      check_close(run_device(impl, pb, e, L, G), ref, 1e-4);
      // And the same call with the 64 x 64 tiles forced agrees with the reference too.
      Request big;
      big.tuning.sweep_tile = 64;
      check_close(run_device(impl, pb, e, L, G, big), ref, 1e-4);
    }
  }
}

}  // namespace
}  // namespace imx::mi::cuda_test
