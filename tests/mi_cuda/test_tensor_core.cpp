// The tensor-core modes (KernelTuning::precision = tf32 / bf16) of the fused and unfused paths
// against the float64 reference, within FlashAttention's budget: at most twice the error of a
// plain same-precision implementation (precision_reference.h), at odd sizes (partial tiles,
// partial and misaligned cp.async stages, several pipeline stages), with split work, gradient
// scale, in every thread schedule and bit for bit repeatable.
#include "tests/mi_cuda/mi_cuda_test_util.h"
#include "tests/mi_cuda/precision_reference.h"

#include <cstring>
#include <sstream>
#include <string>

namespace imx::mi::cuda_test {
namespace {

struct Mode {
  dev::Precision precision;
  Rounding rounding;
};
const Mode kModes[] = {{dev::Precision::tf32, Rounding::tf32}, {dev::Precision::bf16, Rounding::bf16}};

// Twice the plain implementation's error, plus a float32-level floor for entries where the
// rounding happens to cost (almost) nothing.
constexpr double kFloor = 2e-6;
double budget(double plain_err) { return 2.0 * plain_err + kFloor; }

void check_budget(const Outcome<float>& got, const Outcome<double>& exact, const Outcome<double>& plain,
                  bool grads = true) {
  const double el = rel_err(got.loss, exact.loss), pl = rel_err(plain.loss, exact.loss);
  INFO("loss error " << el << " (plain " << pl << ")");
  CHECK(el <= budget(pl));
  if (!grads) return;
  const double eL = rel_err(got.dlocal, exact.dlocal), pL = rel_err(plain.dlocal, exact.dlocal);
  const double eG = rel_err(got.dglobal, exact.dglobal), pG = rel_err(plain.dglobal, exact.dglobal);
  INFO("dL error " << eL << " (plain " << pL << "), dG error " << eG << " (plain " << pG << ")");
  CHECK(eL <= budget(pL));
  CHECK(eG <= budget(pG));
  // And the inputs really were rounded (an exact float32 product would be far below these).
  CHECK(eL >= 0.5 * pL);
  CHECK(eG >= 0.5 * pG);
}

// The device call with the tensor-core sweep kept: at these small sizes the plan would run the
// exact float32 sweep instead (Plan::sweep_precision; tested at the end of this file), and the
// checks above are about the tensor-core tiles.
Outcome<float> run_tensor_core(Impl impl, const Problem& pb, Estimator e, const std::vector<float>& L,
                               const std::vector<float>& G, Request req) {
  if (req.tuning.precision != dev::Precision::fp32 && req.tuning.sweep_tile == 0) req.tuning.sweep_tile = 64;
  return run_device(impl, pb, e, L, G, req);
}

// The plain same-precision implementation's results with both gradients times grad_scale.
Outcome<double> scaled_plain_reference(Rounding rounding, const Problem& pb, Estimator e, const std::vector<float>& L,
                                       const std::vector<float>& G, double grad_scale) {
  Outcome<double> plain = plain_reference(rounding, pb, e, L, G);
  for (double& x : plain.dlocal) x *= grad_scale;
  for (double& x : plain.dglobal) x *= grad_scale;
  return plain;
}

std::vector<Estimator> estimators() {
  if (kSanitized) return {Estimator::jsd, Estimator::infonce};
  return {Estimator::jsd, Estimator::kl, Estimator::w1, Estimator::dv, Estimator::infonce, Estimator::infonce_exact};
}

// D = 37: misaligned rows (4-byte copies), a partial second stage; D = 100: four stages, more
// than the pipeline holds; D = 64, P = 12: aligned rows (16-byte copies) and full stages.
std::vector<Problem> problems() {
  if (kSanitized) return {{3, 5, 37, 2}};
  return {{7, 9, 37, 3}, {23, 7, 100, 1}, {5, 12, 64, 2}};
}

TEST_CASE("tensor cores (tf32, bf16): within twice the plain same-precision error", "[mi_cuda][tensor_core]") {
  for (const Problem& pb : problems()) {
    const Features f = make_features(pb, 8.0, 17 + pb.D);
    const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
    for (Estimator e : estimators()) {
      const Outcome<double> exact = reference(pb, e, L, G);
      for (const Mode& m : kModes) {
        const Outcome<double> plain = plain_reference(m.rounding, pb, e, L, G);
        for (Impl impl : {Impl::fused, Impl::unfused}) {
          INFO(estimator_name(e) << " " << pb.to_string() << " " << impl_label(impl) << " "
                                 << dev::precision_name(m.precision));
          Request req;
          req.tuning.precision = m.precision;
          check_budget(run_tensor_core(impl, pb, e, L, G, req), exact, plain);
        }
      }
    }
  }
}

TEST_CASE("tensor cores: split work, dS chunks, gradient scale, forward only", "[mi_cuda][tensor_core]") {
  const Problem pb = kSanitized ? Problem{3, 5, 9, 1} : Problem{7, 9, 33, 3};
  const Features f = make_features(pb, 6.0, 5);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  for (Estimator e : {Estimator::jsd, Estimator::infonce}) {
    const Outcome<double> exact = reference(pb, e, L, G, -2.5);
    for (const Mode& m : kModes) {
      const Outcome<double> plain = scaled_plain_reference(m.rounding, pb, e, L, G, -2.5);
      INFO(estimator_name(e) << " " << dev::precision_name(m.precision));
      Request req;
      req.grad_scale = -2.5f;
      req.tuning = {3, 7, 3, m.precision};  // column splits, 7-column dS chunks, split dG
      check_budget(run_tensor_core(Impl::fused, pb, e, L, G, req), exact, plain);
      Request forward;
      forward.grad_local = forward.grad_global = false;
      forward.tuning.precision = m.precision;
      check_budget(run_tensor_core(Impl::fused, pb, e, L, G, forward), exact, plain, false);
    }
  }
}

#if defined(IMX_SIMT_EMU)
TEST_CASE("tensor cores: every thread schedule, bit for bit", "[mi_cuda][tensor_core]") {
  const Problem pb = kSanitized ? Problem{3, 5, 7, 2} : Problem{23, 7, 37, 3};
  const Features f = make_features(pb, 8.0, 77);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  const auto& schedules = imx::simt::standard_schedules();
  const std::size_t rounds = kSanitized ? 2 : schedules.size();
  for (const Mode& m : kModes) {
    Request req;
    req.tuning.precision = m.precision;
    Outcome<float> first{};
    for (std::size_t i = 0; i < rounds; ++i) {
      const imx::simt::ScopedSchedule scoped(schedules[kSanitized && i > 0 ? schedules.size() - 1 : i]);
      INFO(dev::precision_name(m.precision) << " schedule " << schedules[i].to_string());
      const Outcome<float> out = run_tensor_core(Impl::fused, pb, Estimator::infonce, L, G, req);
      if (i == 0) {
        first = out;
        continue;
      }
      CHECK(out.loss == first.loss);
      CHECK(std::memcmp(out.dlocal.data(), first.dlocal.data(), out.dlocal.size() * sizeof(float)) == 0);
      CHECK(std::memcmp(out.dglobal.data(), first.dglobal.data(), out.dglobal.size() * sizeof(float)) == 0);
    }
  }
}
#endif

// The 128 x 128 tensor-core tile (tc_tile.cuh: TcTile128, stages of depth 16, four in flight),
// forced by KernelTuning::sweep_tile = 128 (the fused sweeps) and product_tile = 128 (dL, dG,
// the unfused S; the plan picks either only at large shapes, test_plan.cpp): the same budget
// at odd sizes, fused with 128 x 128 sweeps and 64 x 64 products (the large plan's mix) or
// 128 x 128 products too, and unfused with 128 x 128 products. D = 37: misaligned rows, a partial third stage;
// D = 100: seven stages through a four-stage ring; D = 64: aligned 16-byte copies and exactly
// four stages. R = 135 and 131: two row tiles, the second nearly empty; C up to 393: partial
// column tiles. The first call in order and under a random schedule, which must agree bit for bit.
std::vector<Problem> large_tile_problems() {
  if (kSanitized) return {{3, 5, 37, 2}};
  return {{7, 9, 37, 3}, {45, 5, 100, 3}, {131, 3, 64, 1}};
}

// Schedules of the emulation by name (Schedule::parse); one run on a device.
std::vector<std::string> schedule_names() {
#if defined(IMX_SIMT_EMU)
  std::vector<std::string> names;
  for (const imx::simt::Schedule& schedule : imx::simt::standard_schedules()) names.push_back(schedule.to_string());
  if (kSanitized) names = {names.front(), names.back()};
  return names;
#else
  return {"device"};
#endif
}

template <class F>
Outcome<float> under_schedule(const std::string& name, F&& f) {
#if defined(IMX_SIMT_EMU)
  const imx::simt::ScopedSchedule scoped(imx::simt::Schedule::parse(name));
#else
  (void)name;
#endif
  return f();
}

void check_same_bits(const Outcome<float>& a, const Outcome<float>& b) {
  CHECK(std::memcmp(&a.loss, &b.loss, sizeof(float)) == 0);
  REQUIRE(a.dlocal.size() == b.dlocal.size());
  REQUIRE(a.dglobal.size() == b.dglobal.size());
  CHECK(std::memcmp(a.dlocal.data(), b.dlocal.data(), a.dlocal.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(a.dglobal.data(), b.dglobal.data(), a.dglobal.size() * sizeof(float)) == 0);
}

TEST_CASE("tensor cores, 128 x 128 tiles: within twice the plain same-precision error",
          "[mi_cuda][tensor_core][tile128]") {
  const std::vector<Estimator> family =
      kSanitized ? std::vector<Estimator>{Estimator::jsd, Estimator::infonce}
                 : std::vector<Estimator>{Estimator::jsd, Estimator::dv, Estimator::infonce};
  for (const Problem& pb : large_tile_problems()) {
    const Features f = make_features(pb, 8.0, 29 + pb.D);
    const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
    for (Estimator e : family) {
      const Outcome<double> exact = reference(pb, e, L, G);
      for (const Mode& m : kModes) {
        const Outcome<double> plain = plain_reference(m.rounding, pb, e, L, G);
        Request req;
        req.tuning.precision = m.precision;
        req.tuning.sweep_tile = 128;
        INFO(estimator_name(e) << " " << pb.to_string() << " " << dev::precision_name(m.precision) << " 128 x 128");
        const auto run = [&] { return run_tensor_core(Impl::fused, pb, e, L, G, req); };
        const Outcome<float> in_order = under_schedule("inorder", run);
        check_budget(in_order, exact, plain);
#if defined(IMX_SIMT_EMU)
        const Outcome<float> random = under_schedule("random:7", run);
        INFO("random:7");
        check_budget(random, exact, plain);
        check_same_bits(random, in_order);
#endif
        // The forward alone (the statistics sweep without the stored S for dv/infoNCE).
        Request forward = req;
        forward.grad_local = forward.grad_global = false;
        check_budget(run_tensor_core(Impl::fused, pb, e, L, G, forward), exact, plain, false);
        // 128 x 128 products as well: fused (dL, dG) and unfused (S, dL, dG). (The sanitized
        // builds see them in the next test case.)
        if (kSanitized) continue;
        Request products = req;
        products.tuning.product_tile = 128;
        {
          INFO("fused, 128 x 128 products");
          check_budget(run_tensor_core(Impl::fused, pb, e, L, G, products), exact, plain);
        }
        products.tuning.sweep_tile = 0;
        {
          INFO("unfused, 128 x 128 products");
          check_budget(run_tensor_core(Impl::unfused, pb, e, L, G, products), exact, plain);
        }
      }
    }
  }
}

TEST_CASE("tensor cores, 128 x 128 tiles: split columns, dS chunks, split dG, every schedule",
          "[mi_cuda][tensor_core][tile128]") {
  // (The sanitized builds' tiny case is the 64 x 64 test's, data and 7-column chunks included:
  // at D = 9 some data round luckily, below half the plain error, which check_budget refuses.)
  const Problem pb = kSanitized ? Problem{3, 5, 9, 1} : Problem{45, 5, 37, 3};
  const int64_t chunk = kSanitized ? 7 : 150;
  const Features f = make_features(pb, 6.0, kSanitized ? 5 : 41);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  for (Estimator e : {Estimator::jsd, Estimator::infonce}) {
    const Outcome<double> exact = reference(pb, e, L, G, -2.5);
    for (const Mode& m : kModes) {
      const Outcome<double> plain = scaled_plain_reference(m.rounding, pb, e, L, G, -2.5);
      Request req;
      req.grad_scale = -2.5f;
      // 3 column splits (a split may get no tile), 150-column dS chunks (a chunk ends inside a
      // 128-column tile), split dG; 128 x 128 sweeps and products.
      req.tuning = {3, chunk, 3, m.precision, 128, 128};
      Outcome<float> first{};
      bool have_first = false;
      for (const std::string& schedule : schedule_names()) {
        INFO(estimator_name(e) << " " << dev::precision_name(m.precision) << " schedule " << schedule);
        const Outcome<float> out = under_schedule(schedule, [&] { return run_tensor_core(Impl::fused, pb, e, L, G, req); });
        check_budget(out, exact, plain);
        if (have_first) check_same_bits(out, first);
        first = out;
        have_first = true;
      }
    }
  }
}

TEST_CASE("precision names; the fast modes need no more workspace", "[mi_cuda][tensor_core]") {
  for (dev::Precision p : {dev::Precision::fp32, dev::Precision::tf32, dev::Precision::bf16})
    CHECK(dev::parse_precision(dev::precision_name(p)) == p);
  CHECK_THROWS_AS(dev::parse_precision("fp16"), std::invalid_argument);
  const Problem pb{7, 9, 33, 3};
  dev::KernelTuning bf16;
  bf16.precision = dev::Precision::bf16;
  bf16.sweep_tile = 64;  // the tensor-core sweep (this size would take the exact one)
  // Equal with the same sweep tile; at this small size fp32 takes 32 x 32 sweep tiles (more
  // column splits, more row partials) while the tensor-core sweep keeps 64 x 64.
  dev::KernelTuning fp32_64;
  fp32_64.sweep_tile = 64;
  CHECK(dev::fused_workspace_bytes(pb, Estimator::infonce, true, bf16) ==
        dev::fused_workspace_bytes(pb, Estimator::infonce, true, fp32_64));
  CHECK(dev::fused_workspace_bytes(pb, Estimator::infonce, true, bf16) <=
        dev::fused_workspace_bytes(pb, Estimator::infonce, true));
}

}  // namespace

TEST_CASE("tensor cores: a problem too small for their tiles runs the exact float32 sweep", "[mi_cuda][tensor_core]") {
  // (The plan's choice is tested in test_plan.cpp; B = 64, P = 64 gives 256 exact blocks.) Its
  // results at a small size, where the plan makes the same choice:
  // the loss as exact as float32's, the gradients (tensor-core products) within the budget.
  const Problem pb = kSanitized ? Problem{3, 5, 9, 1} : Problem{7, 9, 37, 3};
  const Features f = make_features(pb, 8.0, 54);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  for (Estimator e : {Estimator::jsd, Estimator::infonce}) {
    const Outcome<double> exact = reference(pb, e, L, G);
    for (const Mode& m : kModes) {
      INFO(estimator_name(e) << " " << dev::precision_name(m.precision));
      const Outcome<double> plain = plain_reference(m.rounding, pb, e, L, G);
      Request req;
      req.tuning.precision = m.precision;
      const Outcome<float> got = run_device(Impl::fused, pb, e, L, G, req);
      CHECK(rel_err(got.loss, exact.loss) <= 1e-5);
      CHECK(rel_err(got.loss, exact.loss) <= budget(rel_err(plain.loss, exact.loss)));
      CHECK(rel_err(got.dlocal, exact.dlocal) <= budget(rel_err(plain.dlocal, exact.dlocal)));
      CHECK(rel_err(got.dglobal, exact.dglobal) <= budget(rel_err(plain.dglobal, exact.dglobal)));
    }
  }
}

}  // namespace imx::mi::cuda_test
