// The MI losses: the naive float64 reference against hand-computed values and finite
// differences; the fused and unfused kernels against the reference at odd sizes, odd tile
// widths, huge scores, K > 1, B = 1; parsing and memory accounting.
#include <catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/mi/mi_test_util.h"

using namespace imx::mi;
using namespace imx::mi::test;

namespace {

double sp(double x) { return std::log(1 + std::exp(x)); }  // fine for the small hand values

// E_pos / E_neg of the reference table, restated independently of the library.
double table_pos(Estimator e, double s) {
  switch (e) {
    case Estimator::gan: return -sp(-s);
    case Estimator::jsd: return std::log(2.0) - sp(-s);
    case Estimator::kl: return s;
    case Estimator::rkl: return -std::exp(-s);
    case Estimator::h2: return 1 - std::exp(-s);
    case Estimator::x2: return s * s;
    case Estimator::w1: return s;
    default: FAIL("not an f-divergence"); return 0;
  }
}
double table_neg(Estimator e, double s) {
  switch (e) {
    case Estimator::gan: return sp(-s) + s;
    case Estimator::jsd: return sp(-s) + s - std::log(2.0);
    case Estimator::kl: return std::exp(s - 1);
    case Estimator::rkl: return s - 1;
    case Estimator::h2: return std::exp(s) - 1;
    case Estimator::x2: return -0.5 * (std::abs(s) + 1) * (std::abs(s) + 1);
    case Estimator::w1: return s;
    default: FAIL("not an f-divergence"); return 0;
  }
}

// -log softmax(x)[0]
double neg_log_softmax0(const std::vector<double>& x) {
  double z = 0;
  for (double v : x) z += std::exp(v);
  return -(x[0] - std::log(z));
}

const Estimator kFdivs[] = {Estimator::jsd, Estimator::gan, Estimator::kl, Estimator::rkl,
                            Estimator::h2,  Estimator::x2,  Estimator::w1};

std::string label(Estimator e, const Problem& pb) {
  return std::string(estimator_name(e)) + " " + pb.to_string();
}

}  // namespace

TEST_CASE("estimator names parse and print", "[mi]") {
  for (Estimator e : kAllEstimators) CHECK(parse_estimator(estimator_name(e)) == e);
  CHECK(estimator_name(Estimator::infonce_exact) == "infonce-exact");
  try {
    parse_estimator("infoNCE");
    FAIL("parse_estimator accepted 'infoNCE'");
  } catch (const std::invalid_argument& err) {
    const std::string msg = err.what();
    CHECK(msg.find("'infoNCE'") != std::string::npos);
    for (Estimator e : kAllEstimators) CHECK(msg.find(std::string(estimator_name(e))) != std::string::npos);
  }
  CHECK(parse_impl("fused") == Impl::fused);
  CHECK_THROWS_WITH(parse_impl("fast"), Catch::Contains("'fast'") && Catch::Contains("unfused"));
}

TEST_CASE("problem validation", "[mi]") {
  CHECK_THROWS_WITH((Problem{0, 3, 4, 1}.validate()), Catch::Contains("B=0"));
  CHECK_THROWS_WITH((Problem{2, 3, 4, 0}.validate()), Catch::Contains("K=0"));
  CHECK_THROWS_WITH((Problem{2, -1, 4, 1}.validate()), Catch::Contains(">= 1"));
  CHECK_NOTHROW((Problem{1, 3, 4, 2}.validate_for(Estimator::infonce)));
  for (Estimator e : kAllEstimators) {
    if (e == Estimator::infonce) continue;
    CHECK(needs_negatives(e));
    CHECK_THROWS_WITH((Problem{1, 3, 4, 1}.validate_for(e)),
                      Catch::Contains(std::string(estimator_name(e))) && Catch::Contains("B=1"));
  }
}

TEST_CASE("B = 1 is an error for estimators that need negatives, in every implementation", "[mi]") {
  const Problem pb{1, 3, 2, 1};
  const std::vector<double> L(6, 0.5), G(2, 0.25);
  for (Impl impl : {Impl::naive, Impl::unfused, Impl::fused})
    for (Estimator e : kFdivs) CHECK_THROWS_AS(run<double>(impl, pb, e, L, G), std::invalid_argument);
}

TEST_CASE("naive reference matches hand-computed values, B=2 P=1 D=1", "[mi]") {
  // g = (1, 2), l = (0.5, -1): s[i][j] = g_i l_j. Positives s00, s11; negatives s01, s10.
  const Problem pb{2, 1, 1, 1};
  const std::vector<double> L{0.5, -1.0}, G{1.0, 2.0};
  const double s00 = 0.5, s01 = -1.0, s10 = 1.0, s11 = -2.0;
  for (Estimator e : kFdivs) {
    INFO(estimator_name(e));
    const double expected = (table_neg(e, s01) + table_neg(e, s10)) / 2 - (table_pos(e, s00) + table_pos(e, s11)) / 2;
    CHECK(naive<double>(pb, e, L.data(), G.data()) == Approx(expected).epsilon(1e-14));
  }
  CHECK(naive<double>(pb, Estimator::dv, L.data(), G.data()) ==
        Approx(std::log((std::exp(s01) + std::exp(s10)) / 2) - (s00 + s11) / 2).epsilon(1e-14));
  // The authors' infoNCE: the logits of positive (i, p) are [s_pos, then row i with the
  // same-image entries replaced by -10]; infonce-exact removes them instead.
  const double e10 = -10.0;
  CHECK(naive<double>(pb, Estimator::infonce, L.data(), G.data()) ==
        Approx((neg_log_softmax0({s00, e10, s01}) + neg_log_softmax0({s11, s10, e10})) / 2).epsilon(1e-14));
  CHECK(naive<double>(pb, Estimator::infonce_exact, L.data(), G.data()) ==
        Approx((neg_log_softmax0({s00, s01}) + neg_log_softmax0({s11, s10})) / 2).epsilon(1e-14));

  // Gradients by hand. w1: dLoss/ds = -1/2 on positives, +1/2 on negatives.
  std::vector<double> dL(2), dG(2);
  naive<double>(pb, Estimator::w1, L.data(), G.data(), {dL.data(), dG.data()});
  CHECK(dG[0] == Approx(-0.5 * 0.5 + 0.5 * -1.0));  // sum_j dS[0][j] l_j
  CHECK(dG[1] == Approx(0.5 * 0.5 - 0.5 * -1.0));
  CHECK(dL[0] == Approx(-0.5 * 1.0 + 0.5 * 2.0));  // sum_i dS[i][0] g_i
  CHECK(dL[1] == Approx(0.5 * 1.0 - 0.5 * 2.0));
  // infonce-exact: row i is a 2-way softmax; dLoss/ds_pos = -(1 - p_i)/2, dLoss/ds_neg = (1 - p_i)/2.
  const double q0 = 1 / (1 + std::exp(s00 - s01)), q1 = 1 / (1 + std::exp(s11 - s10));
  naive<double>(pb, Estimator::infonce_exact, L.data(), G.data(), {dL.data(), dG.data()});
  CHECK(dG[0] == Approx(-q0 / 2 * 0.5 + q0 / 2 * -1.0).epsilon(1e-12));
  CHECK(dG[1] == Approx(q1 / 2 * 0.5 - q1 / 2 * -1.0).epsilon(1e-12));
  CHECK(dL[0] == Approx(-q0 / 2 * 1.0 + q1 / 2 * 2.0).epsilon(1e-12));
  CHECK(dL[1] == Approx(q0 / 2 * 1.0 - q1 / 2 * 2.0).epsilon(1e-12));
}

TEST_CASE("naive reference with K = 2 globals per image, by hand", "[mi]") {
  // Rows (i,k): g = (1, -0.5 | 2, 0.25); locals l = (0.5, -1). Row (i,k) is positive with l_i.
  const Problem pb{2, 1, 1, 2};
  const std::vector<double> L{0.5, -1.0}, G{1.0, -0.5, 2.0, 0.25};
  const double pos[] = {0.5, -0.25, -2.0, -0.25};   // (0,0)l0 (0,1)l0 (1,0)l1 (1,1)l1
  const double neg[] = {-1.0, 0.5, 1.0, 0.125};     // (0,0)l1 (0,1)l1 (1,0)l0 (1,1)l0
  double mean_pos = 0, mean_exp_neg = 0, w1 = 0;
  for (int i = 0; i < 4; ++i) {
    mean_pos += pos[i] / 4;
    mean_exp_neg += std::exp(neg[i]) / 4;
    w1 += (neg[i] - pos[i]) / 4;
  }
  CHECK(naive<double>(pb, Estimator::dv, L.data(), G.data()) == Approx(std::log(mean_exp_neg) - mean_pos).epsilon(1e-14));
  CHECK(naive<double>(pb, Estimator::w1, L.data(), G.data()) == Approx(w1).epsilon(1e-14));
  double nce = 0;
  for (int i = 0; i < 4; ++i) nce += neg_log_softmax0({pos[i], -10.0, neg[i]}) / 4;
  CHECK(naive<double>(pb, Estimator::infonce, L.data(), G.data()) == Approx(nce).epsilon(1e-14));
}

TEST_CASE("naive reference gradients match central finite differences", "[mi]") {
  for (int64_t K : {1, 3}) {
    const Problem pb{3, 2, 3, K};
    const Features f = make_features(pb, 4.0, 11 + K);
    for (Estimator e : kAllEstimators) {
      INFO(label(e, pb));
      const Outcome<double> an = run<double>(Impl::naive, pb, e, f.local, f.global);
      auto loss_at = [&](const std::vector<double>& L, const std::vector<double>& G) {
        return naive<double>(pb, e, L.data(), G.data());
      };
      auto check = [&](std::vector<double> x, const std::vector<double>& grad, bool is_local) {
        double max_grad = 0;
        for (double v : grad) max_grad = std::max(max_grad, std::abs(v));
        for (size_t i = 0; i < x.size(); ++i) {
          const double h = 1e-6 * std::max(1.0, std::abs(x[i])), x0 = x[i];
          x[i] = x0 + h;
          const double up = is_local ? loss_at(x, f.global) : loss_at(f.local, x);
          x[i] = x0 - h;
          const double down = is_local ? loss_at(x, f.global) : loss_at(f.local, x);
          x[i] = x0;
          INFO((is_local ? "dL[" : "dG[") << i << "]");
          CHECK(std::abs((up - down) / (2 * h) - grad[i]) <= 1e-6 * max_grad + 1e-9);
        }
      };
      check(f.local, an.dlocal, true);
      check(f.global, an.dglobal, false);
    }
  }
}

namespace {

// fused and unfused against naive float64, for one problem, data and option set.
template <class T>
void check_against_reference(const Problem& pb, Estimator e, const Features& f, double tol,
                             const Options& opt) {
  const Outcome<double> ref = run<double>(Impl::naive, pb, e, cast<double>(cast<T>(f.local)),
                                          cast<double>(cast<T>(f.global)));
  const std::vector<T> L = cast<T>(f.local), G = cast<T>(f.global);
  for (Impl impl : {Impl::fused, Impl::unfused}) {
    INFO(label(e, pb) << " impl=" << impl_name(impl) << " tile=" << opt.tile_cols
                      << " threads=" << opt.threads << " elem=" << sizeof(T));
    const Outcome<T> out = run<T>(impl, pb, e, L, G, opt);
    CHECK(rel_err(out.loss, ref.loss) <= tol);
    CHECK(rel_err(out.dlocal, ref.dlocal) <= tol);
    CHECK(rel_err(out.dglobal, ref.dglobal) <= tol);
  }
}

const Problem kOddProblems[] = {{7, 9, 33, 1}, {7, 9, 33, 3}, {2, 1, 5, 1}, {2, 1, 4, 3},
                                {3, 5, 2, 2},  {5, 3, 17, 1}};

}  // namespace

TEST_CASE("fused and unfused match the float64 reference at odd sizes", "[mi]") {
  for (const Problem& pb : kOddProblems) {
    const Features f = make_features(pb, 6.0, pb.B * 100 + pb.K);
    for (Estimator e : kAllEstimators)
      for (int threads : {1, 2}) {
        Options opt;
        opt.threads = threads;
        check_against_reference<double>(pb, e, f, 1e-10, opt);
        check_against_reference<float>(pb, e, f, 1e-4, opt);
      }
  }
}

TEST_CASE("fused and unfused float32 stay within 1e-4 over long rows (B*P = 2048)", "[mi]") {
  for (int64_t K : {1, 2}) {
    const Problem pb{32, 64, 16, K};
    const Features f = make_features(pb, 20.0, 21 + K);
    for (Estimator e : {Estimator::infonce, Estimator::infonce_exact, Estimator::dv, Estimator::jsd, Estimator::x2}) {
      Options opt;
      opt.threads = 2;
      check_against_reference<float>(pb, e, f, 1e-4, opt);
    }
  }
}

TEST_CASE("fused tiles that do not divide B*P", "[mi]") {
  const Problem pb{7, 9, 33, 3};  // 63 columns
  const Features f = make_features(pb, 8.0, 5);
  for (Estimator e : kAllEstimators)
    for (int64_t tile : {1, 5, 8, 62, 63, 64, 1000})
      for (std::size_t cache : {std::size_t(0), kDefaultScoreCacheBytes}) {  // recomputed / cached tiles
        Options opt;
        opt.tile_cols = tile;
        opt.threads = 2;
        opt.score_cache_bytes = cache;
        check_against_reference<double>(pb, e, f, 1e-10, opt);
        check_against_reference<float>(pb, e, f, 1e-4, opt);
      }
}

TEST_CASE("fused infoNCE with every tile cached, some, or none: the same bits", "[mi]") {
  const Problem pb{16, 12, 20, 2};  // R = 32, C = 192: 12 tiles of 16 columns
  const Features f = make_features(pb, 8.0, 9);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  for (Estimator e : {Estimator::infonce, Estimator::infonce_exact}) {
    Options opt;
    opt.threads = 2;
    opt.tile_cols = 16;
    const Outcome<float> all = run<float>(Impl::fused, pb, e, L, G, opt);
    const std::size_t tile_bytes = 32 * 16 * sizeof(float);
    for (std::size_t budget : {std::size_t(0), 3 * tile_bytes, 7 * tile_bytes}) {
      INFO(estimator_name(e) << " budget " << budget);
      opt.score_cache_bytes = budget;
      std::size_t peak = 0;
      opt.peak_extra_bytes = &peak;
      const Outcome<float> some = run<float>(Impl::fused, pb, e, L, G, opt);
      CHECK(some.loss == all.loss);
      CHECK(some.dlocal == all.dlocal);
      CHECK(some.dglobal == all.dglobal);
      CHECK(peak == fused_bytes(pb, e, sizeof(float), true, opt));
      opt.peak_extra_bytes = nullptr;
    }
    // The cache never exceeds its budget.
    opt.score_cache_bytes = 5 * tile_bytes;
    Options none = opt;
    none.score_cache_bytes = 0;
    CHECK(fused_bytes(pb, e, 4, true, opt) - fused_bytes(pb, e, 4, true, none) <= 5 * tile_bytes);
  }
}

TEST_CASE("scores of magnitude 150: no overflow, no NaN", "[mi]") {
  const Problem pb{7, 9, 33, 3};
  const Features f = make_features(pb, 150.0, 42);
  Options opt;
  opt.tile_cols = 10;
  opt.threads = 2;
  Options uncached = opt;  // DV's one pass (without a cache for every tile), not its two passes
  uncached.score_cache_bytes = 0;
  for (Estimator e : kAllEstimators) {
    // float64 holds e^150, so every estimator is finite and exact there.
    check_against_reference<double>(pb, e, f, 1e-10, opt);
    check_against_reference<double>(pb, e, f, 1e-10, uncached);
    if (finite_for_finite_scores(e)) {
      check_against_reference<float>(pb, e, f, 1e-4, opt);
      check_against_reference<float>(pb, e, f, 1e-4, uncached);
      for (Impl impl : {Impl::fused, Impl::unfused}) {
        const Outcome<float> out = run<float>(impl, pb, e, cast<float>(f.local), cast<float>(f.global), opt);
        INFO(label(e, pb) << " " << impl_name(impl));
        CHECK(std::isfinite(out.loss));
        CHECK(all_finite(out.dlocal));
        CHECK(all_finite(out.dglobal));
      }
    } else {
      // kl, rkl, h2 contain e^{+-s}: a term beyond float32's range (|s| > ~88 on the growing
      // side) makes the float32 loss +inf, never NaN; otherwise it is accurate. Both signs of
      // the globals are tried so that each side overflows in one of them.
      int infinite = 0;
      for (double sign : {1.0, -1.0}) {
        Features flipped = f;
        for (double& x : flipped.global) x *= sign;
        const Outcome<double> ref = run<double>(Impl::naive, pb, e, cast<double>(cast<float>(flipped.local)),
                                                cast<double>(cast<float>(flipped.global)));
        for (Impl impl : {Impl::fused, Impl::unfused}) {
          INFO(label(e, pb) << " " << impl_name(impl) << " sign " << sign);
          const Outcome<float> out =
              run<float>(impl, pb, e, cast<float>(flipped.local), cast<float>(flipped.global), opt);
          CHECK(!std::isnan(out.loss));
          if (std::isfinite(out.loss)) CHECK(rel_err(out.loss, ref.loss) <= 1e-4);
          else CHECK(out.loss == std::numeric_limits<double>::infinity());
          infinite += std::isinf(out.loss);
        }
      }
      CHECK(infinite >= 2);  // the overflow case really was exercised
      check_against_reference<float>(pb, e, make_features(pb, 30.0, 43), 1e-4, opt);
    }
  }
}

TEST_CASE("the authors' infoNCE is defined at B = 1 (only the -10 fill in the softmax)", "[mi]") {
  const Problem pb{1, 4, 3, 2};
  const Features f = make_features(pb, 5.0, 9);
  Options opt;
  opt.tile_cols = 3;
  check_against_reference<double>(pb, Estimator::infonce, f, 1e-10, opt);
  // loss = mean_p sp(log(P) - 10 - s_p).
  const std::vector<double> S = scores_of(pb, f.local, f.global);
  double expected = 0;
  for (double s : S) expected += std::log1p(std::exp(std::log(4.0) - 10 - s)) / 8;
  CHECK(fused<double>(pb, Estimator::infonce, f.local.data(), f.global.data()) == Approx(expected).epsilon(1e-12));
}

TEST_CASE("gradient scale, single gradients and forward-only calls", "[mi]") {
  const Problem pb{4, 5, 6, 2};
  const Features f = make_features(pb, 6.0, 3);
  for (Estimator e : {Estimator::jsd, Estimator::infonce, Estimator::dv}) {
    for (Impl impl : {Impl::naive, Impl::unfused, Impl::fused}) {
      INFO(estimator_name(e) << " " << impl_name(impl));
      const Outcome<double> base = run<double>(impl, pb, e, f.local, f.global);
      Options opt;
      opt.grad_scale = -2.5;
      const Outcome<double> scaled = run<double>(impl, pb, e, f.local, f.global, opt);
      CHECK(scaled.loss == Approx(base.loss).epsilon(1e-14));
      for (size_t i = 0; i < base.dlocal.size(); ++i) CHECK(scaled.dlocal[i] == Approx(-2.5 * base.dlocal[i]));
      for (size_t i = 0; i < base.dglobal.size(); ++i) CHECK(scaled.dglobal[i] == Approx(-2.5 * base.dglobal[i]));
      std::vector<double> only(f.local.size(), 99.0);
      const double loss_only_local =
          compute<double>(impl, pb, e, f.local.data(), f.global.data(), {only.data(), nullptr});
      CHECK(rel_err(only, base.dlocal) <= 1e-12);
      CHECK(loss_only_local == Approx(base.loss).epsilon(1e-14));
      std::vector<double> only_g(f.global.size(), 99.0);
      compute<double>(impl, pb, e, f.local.data(), f.global.data(), {nullptr, only_g.data()});
      CHECK(rel_err(only_g, base.dglobal) <= 1e-12);
      CHECK(compute<double>(impl, pb, e, f.local.data(), f.global.data()) == Approx(base.loss).epsilon(1e-14));
    }
  }
}

TEST_CASE("reported scratch memory matches the formulas; fused has no B*B term", "[mi]") {
  for (Estimator e : {Estimator::infonce, Estimator::jsd, Estimator::dv}) {
    for (int64_t B : {8, 32}) {
      const Problem pb{B, 6, 5, 2};
      const Features f = make_features(pb, 4.0, 1);
      for (Impl impl : {Impl::naive, Impl::unfused, Impl::fused}) {
        INFO(estimator_name(e) << " B=" << B << " " << impl_name(impl));
        std::size_t peak = 0;
        Options opt;
        opt.threads = 2;
        opt.peak_extra_bytes = &peak;
        run<float>(impl, pb, e, cast<float>(f.local), cast<float>(f.global), opt);
        CHECK(peak == extra_bytes(impl, pb, e, sizeof(float), true, opt));
      }
    }
    // Quadrupling B: naive and unfused grow ~16x (B*B score matrix), fused at most ~4x once
    // its score cache (which holds first-pass tiles up to a fixed budget) is off.
    Options opt;
    opt.threads = 2;
    opt.tile_cols = 16;
    opt.score_cache_bytes = 0;
    auto ratio = [&](Impl impl) {
      return double(extra_bytes(impl, {128, 6, 5, 2}, e, 4, true, opt)) /
             double(extra_bytes(impl, {32, 6, 5, 2}, e, 4, true, opt));
    };
    CHECK(ratio(Impl::naive) > 15);
    CHECK(ratio(Impl::unfused) > 10);
    CHECK(ratio(Impl::fused) < 4.5);
  }
}
