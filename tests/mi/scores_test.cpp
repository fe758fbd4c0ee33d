// from_scores (the estimators over a given score matrix) against the unfused path on the same
// features, its dS against finite differences of its own loss, and its scratch accounting.
#include <catch.hpp>

#include <string>
#include <vector>

#include "tests/mi/mi_test_util.h"

using namespace imx::mi;
using namespace imx::mi::test;

namespace {

// dG = dS L (R x D) and dL = dS^T G (C x D) by plain loops.
void products(const Problem& pb, const std::vector<double>& dS, const Features& f, std::vector<double>& dG,
              std::vector<double>& dL) {
  dG.assign(pb.rows() * pb.D, 0.0);
  dL.assign(pb.cols() * pb.D, 0.0);
  for (int64_t r = 0; r < pb.rows(); ++r)
    for (int64_t c = 0; c < pb.cols(); ++c)
      for (int64_t d = 0; d < pb.D; ++d) {
        dG[r * pb.D + d] += dS[r * pb.cols() + c] * f.local[c * pb.D + d];
        dL[c * pb.D + d] += dS[r * pb.cols() + c] * f.global[r * pb.D + d];
      }
}

double loss_of(const Problem& pb, Estimator e, std::vector<double> S) {
  return from_scores<double>(pb, e, S.data(), false);
}

}  // namespace

TEST_CASE("from_scores(G L^T) gives unfused's loss and, through dS, its gradients", "[mi][scores]") {
  for (const Problem& pb : {Problem{5, 3, 4, 1}, Problem{5, 3, 4, 2}}) {
    const Features f = make_features(pb, 6.0, 11 + pb.K);
    const std::vector<double> S = scores_of(pb, f.local, f.global);
    for (Estimator e : kAllEstimators) {
      INFO(std::string(estimator_name(e)) + " " + pb.to_string());
      for (int threads : {1, 2}) {
        Options opt;
        opt.threads = threads;
        const Outcome<double> ref = run<double>(Impl::unfused, pb, e, f.local, f.global, opt);

        std::vector<double> fwd = S;
        const double loss_fwd = from_scores<double>(pb, e, fwd.data(), false, opt);
        CHECK(fwd == S);  // forward only: the matrix is left alone
        CHECK(rel_err(loss_fwd, ref.loss) <= 1e-12);

        std::vector<double> dS = S;
        const double loss = from_scores<double>(pb, e, dS.data(), true, opt);
        CHECK(loss == loss_fwd);
        std::vector<double> dG, dL;
        products(pb, dS, f, dG, dL);
        CHECK(rel_err(dG, ref.dglobal) <= 1e-12);
        CHECK(rel_err(dL, ref.dlocal) <= 1e-12);

        // grad_scale multiplies dS.
        opt.grad_scale = -2.5;
        std::vector<double> scaled = S;
        CHECK(from_scores<double>(pb, e, scaled.data(), true, opt) == loss);
        for (double& x : dS) x *= -2.5;
        CHECK(rel_err(scaled, dS) <= 1e-15);
      }
    }
  }
}

TEST_CASE("from_scores' dS matches central differences of its loss, score by score", "[mi][scores]") {
  for (const Problem& pb : {Problem{5, 3, 1, 1}, Problem{5, 3, 1, 2}}) {
    const Features f = make_features(pb, 6.0, 21 + pb.K);
    const std::vector<double> S = scores_of(pb, f.local, f.global);
    for (Estimator e : kAllEstimators) {
      INFO(std::string(estimator_name(e)) + " " + pb.to_string());
      std::vector<double> dS = S;
      from_scores<double>(pb, e, dS.data(), true);
      std::vector<double> fd(S.size());
      const double h = 1e-5;
      for (size_t i = 0; i < S.size(); ++i) {
        std::vector<double> up = S, down = S;
        up[i] += h;
        down[i] -= h;
        fd[i] = (loss_of(pb, e, up) - loss_of(pb, e, down)) / (2 * h);
      }
      CHECK(rel_err(dS, fd) <= 1e-7);
    }
  }
}

TEST_CASE("from_scores: infoNCE at B = 1, validation, scratch accounting", "[mi][scores]") {
  const Problem one{1, 4, 3, 2};
  const Features f = make_features(one, 5.0, 9);
  std::vector<double> S = scores_of(one, f.local, f.global);
  const double ref = run<double>(Impl::unfused, one, Estimator::infonce, f.local, f.global).loss;
  CHECK(rel_err(from_scores<double>(one, Estimator::infonce, S.data(), true), ref) <= 1e-12);
  CHECK_THROWS_WITH(from_scores<double>(one, Estimator::jsd, S.data(), true), Catch::Contains("negative pairs"));

  // pb.D is ignored: D = 0 is accepted.
  const Problem pb{5, 3, 0, 2};
  std::vector<float> Sf(pb.rows() * pb.cols(), 0.5f);
  for (size_t i = 0; i < Sf.size(); ++i) Sf[i] = float(i % 7) - 3.0f;
  for (Estimator e : kAllEstimators)
    for (bool grads : {false, true})
      for (int threads : {1, 2}) {
        INFO(std::string(estimator_name(e)) << " grads " << grads << " threads " << threads);
        std::size_t peak = 0;
        Options opt;
        opt.threads = threads;
        opt.peak_extra_bytes = &peak;
        std::vector<float> x = Sf;
        from_scores<float>(pb, e, x.data(), grads, opt);
        CHECK(peak == from_scores_bytes(pb, e, sizeof(float), grads, opt));
        // No copy of the matrix: only the estimator's own scratch.
        Problem with_d = pb;
        with_d.D = 4;
        CHECK(peak == unfused_bytes(with_d, e, sizeof(float), grads, opt) - Sf.size() * sizeof(float));
      }
}
