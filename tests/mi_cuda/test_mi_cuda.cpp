// The CUDA MI loss (losses/mi_cuda), fused and unfused, compared with the float64 naive
// reference of losses/mi: every estimator, odd sizes, large scores, forward-only and
// single-gradient calls, gradient scale, work splits that do not divide the problem, thread
// schedules, and the workspace contract. Built twice: against the SIMT emulation (mi_cuda_tests,
// CI) and against the nvcc build (mi_cuda_device_tests, skipped without a device).
#include "tests/mi_cuda/mi_cuda_test_util.h"

#include <cstring>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>

namespace imx::mi::cuda_test {
namespace {

std::string label(Estimator e, const Problem& pb, Impl impl) {
  std::ostringstream s;
  s << estimator_name(e) << " " << pb.to_string() << " " << impl_label(impl);
  return s.str();
}

// Every estimator; in the sanitizer builds one of each kernel family (f-divergence, per-row
// log-sum-exp, batch log-sum-exp): the families share every kernel but the per-pair terms.
std::vector<Estimator> estimators() {
  if (kSanitized) return {Estimator::jsd, Estimator::infonce, Estimator::dv};
  return std::vector<Estimator>(std::begin(kAllEstimators), std::end(kAllEstimators));
}

struct Case {
  Problem pb;
  double max_abs_score;
};

// B=7 P=9 D=33: the classic odd size; B=2 P=1 D=1: the smallest with negatives; B=3 P=5 D=2 K=2;
// B=23 P=7 D=37 K=3: R=69, C=161 - two row tiles, three column tiles, three depth stages, none
// full (tiles are 64 x 64 x 16).
std::vector<Case> odd_cases() {
  if (kSanitized) return {{{7, 9, 33, 3}, 6.0}, {{2, 1, 1, 1}, 3.0}};
  return {{{7, 9, 33, 1}, 6.0}, {{7, 9, 33, 3}, 6.0}, {{2, 1, 1, 1}, 3.0},
          {{2, 1, 1, 3}, 3.0},  {{3, 5, 2, 2}, 6.0},  {{23, 7, 37, 3}, 8.0}};
}

TEST_CASE("fused and unfused match the float64 reference at odd sizes", "[mi_cuda]") {
  for (const Case& c : odd_cases()) {
    const Features f = make_features(c.pb, c.max_abs_score, c.pb.B * 100 + c.pb.K);
    const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
    for (Estimator e : estimators()) {
      const Outcome<double> ref = reference(c.pb, e, L, G);
      for (Impl impl : {Impl::fused, Impl::unfused}) {
        // Both sweep tiles: these sizes take 32 x 32 by default (few blocks), 64 x 64 forced.
        for (int tile : {0, 64}) {
          INFO(label(e, c.pb, impl) << " sweep_tile=" << tile);
          Request req;
          req.tuning.sweep_tile = tile;
          check_close(run_device(impl, c.pb, e, L, G, req), ref, 1e-4);
        }
      }
    }
  }
}

TEST_CASE("work splits that do not divide the problem: column splits, dS chunks, split-K of dG",
          "[mi_cuda]") {
  struct Split {
    Problem pb;
    dev::KernelTuning tuning;
  };
  // More column splits than columns (B=2, P=1: two columns), than column tiles, one split;
  // dS chunks of 1, 7 and 100 columns (several chunks, the last one partial, dG accumulated
  // over chunks); dG split into 3 and 5 pieces over the chunk's columns.
  std::vector<Split> splits = {{{2, 1, 3, 2}, {5, 0, 0}},      {{2, 1, 3, 2}, {3, 1, 2}},
                               {{7, 9, 33, 3}, {7, 7, 3}},     {{7, 9, 33, 1}, {1, 100, 5}},
                               {{23, 7, 37, 3}, {4, 100, 3}}, {{23, 7, 37, 3}, {4, 100, 3, dev::Precision::fp32, 64}},
                               {{7, 9, 33, 1}, {1, 100, 5, dev::Precision::fp32, 64}}};
  if (kSanitized) splits = {{{2, 1, 3, 2}, {5, 1, 2}}, {{3, 5, 17, 1}, {3, 7, 3}}};
  for (const Split& s : splits) {
    const Features f = make_features(s.pb, 8.0, 5);
    const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
    for (Estimator e : estimators()) {
      const Outcome<double> ref = reference(s.pb, e, L, G);
      for (Impl impl : {Impl::fused, Impl::unfused}) {
        INFO(label(e, s.pb, impl) << " splits=" << s.tuning.column_splits << " chunk=" << s.tuning.chunk_cols
                                  << " dg_splits=" << s.tuning.dg_splits);
        Request req;
        req.tuning = s.tuning;
        check_close(run_device(impl, s.pb, e, L, G, req), ref, 1e-4);
      }
    }
  }
}

TEST_CASE("scores of magnitude 150: no overflow, no NaN", "[mi_cuda]") {
  const Problem pb = kSanitized ? Problem{3, 4, 9, 2} : Problem{7, 9, 33, 3};
  const Features f = make_features(pb, 150.0, 42);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  for (Estimator e : kAllEstimators) {
    if (finite_for_finite_scores(e)) {
      const Outcome<double> ref = reference(pb, e, L, G);
      for (Impl impl : {Impl::fused, Impl::unfused}) {
        INFO(label(e, pb, impl));
        const Outcome<float> out = run_device(impl, pb, e, L, G);
        CHECK(std::isfinite(out.loss));
        CHECK(all_finite(out.dlocal));
        CHECK(all_finite(out.dglobal));
        check_close(out, ref, 1e-4);
      }
      continue;
    }
    // kl, rkl, h2 contain e^{+-s}, beyond float32 at |s| ~ 88 by definition (losses/mi
    // README): the loss is then +inf, never NaN; otherwise accurate. Both signs of the globals
    // are tried so that each side overflows in one of them; |s| <= 30 is accurate throughout.
    int infinite = 0;
    for (float sign : {1.0f, -1.0f}) {
      std::vector<float> flipped = G;
      for (float& x : flipped) x *= sign;
      const double ref = reference(pb, e, L, flipped).loss;
      for (Impl impl : {Impl::fused, Impl::unfused}) {
        INFO(label(e, pb, impl) << " sign " << sign);
        const Outcome<float> out = run_device(impl, pb, e, L, flipped);
        CHECK(!std::isnan(out.loss));
        if (std::isfinite(out.loss)) CHECK(rel_err(out.loss, ref) <= 1e-4);
        else CHECK(out.loss == std::numeric_limits<double>::infinity());
        infinite += std::isinf(out.loss);
      }
    }
    CHECK(infinite >= 2);  // the overflow case really was exercised
    const Features moderate = make_features(pb, 30.0, 43);
    const std::vector<float> Lm = cast<float>(moderate.local), Gm = cast<float>(moderate.global);
    const Outcome<double> ref = reference(pb, e, Lm, Gm);
    for (Impl impl : {Impl::fused, Impl::unfused}) {
      INFO(label(e, pb, impl) << " |s| <= 30");
      check_close(run_device(impl, pb, e, Lm, Gm), ref, 1e-4);
    }
  }
}

TEST_CASE("the authors' infoNCE at B = 1 (only the -10 fill in the softmax)", "[mi_cuda]") {
  const Problem pb{1, 4, 3, 2};
  const Features f = make_features(pb, 5.0, 9);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  const Outcome<double> ref = reference(pb, Estimator::infonce, L, G);
  for (Impl impl : {Impl::fused, Impl::unfused}) {
    INFO(impl_label(impl));
    check_close(run_device(impl, pb, Estimator::infonce, L, G), ref, 1e-4);
  }
}

TEST_CASE("gradient scale, single gradients and forward-only calls", "[mi_cuda]") {
  const Problem pb{4, 5, 6, 2};
  const Features f = make_features(pb, 6.0, 3);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  const std::vector<Estimator> estimators =
      kSanitized ? std::vector<Estimator>{Estimator::jsd, Estimator::infonce}
                 : std::vector<Estimator>{Estimator::jsd, Estimator::x2, Estimator::infonce, Estimator::dv};
  for (Estimator e : estimators) {
    const Outcome<double> ref = reference(pb, e, L, G, -2.5);
    for (Impl impl : {Impl::fused, Impl::unfused}) {
      INFO(label(e, pb, impl));
      Request scaled;
      scaled.grad_scale = -2.5f;
      check_close(run_device(impl, pb, e, L, G, scaled), ref, 1e-4);

      Request only_local = scaled, only_global = scaled, forward = scaled;
      only_local.grad_global = false;
      only_global.grad_local = false;
      forward.grad_local = forward.grad_global = false;
      const Outcome<float> a = run_device(impl, pb, e, L, G, only_local);
      CHECK(rel_err(a.loss, ref.loss) <= 1e-4);
      CHECK(rel_err(a.dlocal, ref.dlocal) <= 1e-4);
      const Outcome<float> b = run_device(impl, pb, e, L, G, only_global);
      CHECK(rel_err(b.loss, ref.loss) <= 1e-4);
      CHECK(rel_err(b.dglobal, ref.dglobal) <= 1e-4);
      CHECK(rel_err(run_device(impl, pb, e, L, G, forward).loss, ref.loss) <= 1e-4);
      // Without gradients the call needs less workspace (no dS chunk, no dG partials).
      CHECK(dev::workspace_bytes(impl, pb, e, false) <= dev::workspace_bytes(impl, pb, e, true));
    }
  }
}

// The emulation runs the threads of a block in the standard orders (in the sanitizer builds in
// order and one random order: ThreadSanitizer finds missing barriers in any order); a device
// runs twice in its own order.
#if defined(IMX_SIMT_EMU)
const int kScheduleRounds = kSanitized ? 2 : int(imx::simt::standard_schedules().size());
class ScheduleScope {
 public:
  explicit ScheduleScope(int round)
      : schedule_(kSanitized && round > 0 ? imx::simt::standard_schedules().back()
                                          : imx::simt::standard_schedules()[round]),
        scoped_(schedule_) {}
  std::string name() const { return schedule_.to_string(); }

 private:
  imx::simt::Schedule schedule_;
  imx::simt::ScopedSchedule scoped_;
};
#else
const int kScheduleRounds = 2;
class ScheduleScope {
 public:
  explicit ScheduleScope(int round) : round_(round) {}
  std::string name() const { return "device run " + std::to_string(round_); }

 private:
  int round_;
};
#endif

TEST_CASE("results hold in every thread schedule, and repeat bit for bit", "[mi_cuda]") {
  const Problem pb = kSanitized ? Problem{3, 5, 7, 2} : Problem{23, 7, 37, 3};
  const Features f = make_features(pb, 8.0, 77);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  for (Estimator e : {Estimator::jsd, Estimator::infonce, Estimator::dv}) {
    const Outcome<double> ref = reference(pb, e, L, G);
    for (Impl impl : {Impl::fused, Impl::unfused}) {
      Request req;
      req.tuning.chunk_cols = 100;  // two chunks of dS in the fused path
      Outcome<float> first{};
      bool have_first = false;
      for (int round = 0; round < kScheduleRounds; ++round) {
        const ScheduleScope scoped(round);
        INFO(label(e, pb, impl) << " schedule " << scoped.name());
        const Outcome<float> out = run_device(impl, pb, e, L, G, req);
        check_close(out, ref, 1e-4);
        if (!have_first) {
          first = out;
          have_first = true;
          continue;
        }
        // A fixed work split and fixed reduction orders: the schedule changes nothing.
        CHECK(out.loss == first.loss);
        CHECK(std::memcmp(out.dlocal.data(), first.dlocal.data(), out.dlocal.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(out.dglobal.data(), first.dglobal.data(), out.dglobal.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("workspace contract: exact size, no B*B term in the fused path, clear errors", "[mi_cuda]") {
  // Fused: doubling B (at fixed P, D, K) at most doubles the workspace, and for forward-only
  // calls it stays far below one score matrix; the unfused path holds the R x C matrix.
  for (Estimator e : {Estimator::jsd, Estimator::infonce, Estimator::dv}) {
    INFO(estimator_name(e));
    const Problem small{256, 225, 512, 1}, big{512, 225, 512, 1};
    const double score_matrix = 4.0 * double(big.rows()) * double(big.cols());
    const std::size_t fs = dev::fused_workspace_bytes(small, e, true), fb = dev::fused_workspace_bytes(big, e, true);
    CHECK(double(fb) <= 2.05 * double(fs));
    CHECK(double(dev::fused_workspace_bytes(big, e, false)) < 0.01 * score_matrix);
    CHECK(double(dev::fused_workspace_bytes(big, e, true)) < 0.25 * score_matrix);
    CHECK(double(dev::unfused_workspace_bytes(big, e, true)) >= score_matrix);
  }

  const Problem pb{3, 4, 5, 1};
  const std::vector<float> L(pb.cols() * pb.D, 0.5f), G(pb.rows() * pb.D, 0.25f);
  const DeviceArray<float> local(L), global(G);
  const std::size_t need = dev::fused_workspace_bytes(pb, Estimator::jsd, false);
  DeviceArray<unsigned char> workspace(need);
  CHECK_THROWS_AS(dev::fused(pb, Estimator::jsd, local.get(), global.get(), nullptr, nullptr, 1.0f,
                             workspace.get(), need - 1, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(dev::fused(pb, Estimator::jsd, local.get(), global.get(), nullptr, nullptr, 1.0f,
                             workspace.get() + 4, need, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(dev::fused(pb, Estimator::jsd, local.get(), global.get(), nullptr, nullptr, 1.0f, nullptr,
                             need, nullptr),
                  std::invalid_argument);
  dev::KernelTuning bad;
  bad.column_splits = -1;
  CHECK_THROWS_AS(dev::fused_workspace_bytes(pb, Estimator::jsd, true, bad), std::invalid_argument);
  CHECK_THROWS_AS(dev::fused_workspace_bytes(Problem{1, 4, 5, 1}, Estimator::jsd, true), std::invalid_argument);
  CHECK_THROWS_AS(dev::workspace_bytes(Impl::naive, pb, Estimator::jsd, true), std::invalid_argument);
  // The exact size is enough: one more byte is not needed (ASan would see an overrun).
  const float loss = dev::fused(pb, Estimator::jsd, local.get(), global.get(), nullptr, nullptr, 1.0f,
                                workspace.get(), need, nullptr);
  CHECK(rel_err(loss, reference(pb, Estimator::jsd, L, G).loss) <= 1e-5);
}

}  // namespace
}  // namespace imx::mi::cuda_test
