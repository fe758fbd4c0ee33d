// The autograd op mi_loss_from_scores (losses/dim): through S = G L^T it gives the gradients of
// mi_loss on the same features; upstream gradients scale it; shapes are checked by name.
#include <catch.hpp>

#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "losses/dim/dim_losses.h"
#include "losses/dim/score_losses.h"
#include "tests/mi/mi_test_util.h"

using namespace imx;
using mi::Estimator;

namespace {

double max_rel_diff(const Tensor& a, const Tensor& b) {
  return mi::test::rel_err(a.to_vector(), b.to_vector());
}

}  // namespace

TEST_CASE("mi_loss_from_scores(G L^T) has mi_loss's value and gradients (CPU float64)", "[mi][scores]") {
  for (const mi::Problem& pb : {mi::Problem{5, 3, 4, 1}, mi::Problem{5, 3, 4, 2}}) {
    const mi::test::Features f = mi::test::make_features(pb, 6.0, 31 + pb.K);
    for (Estimator e : mi::kAllEstimators) {
      INFO(std::string(mi::estimator_name(e)) + " " + pb.to_string());
      Tensor L = Tensor::from(f.local, {pb.cols(), pb.D}, DType::F64).set_requires_grad();
      Tensor G = Tensor::from(f.global, {pb.rows(), pb.D}, DType::F64).set_requires_grad();
      const Tensor loss = mi_loss_from_scores(matmul(G, permute(L, {1, 0})), pb.B, pb.K, e);
      scale(loss, -3.0).backward();  // an upstream gradient other than 1

      Tensor L3 = Tensor::from(f.local, {pb.B, pb.P, pb.D}, DType::F64).set_requires_grad();
      Tensor G3 = Tensor::from(f.global, {pb.B, pb.K, pb.D}, DType::F64).set_requires_grad();
      const Tensor ref = mi_loss(L3, G3, e);
      scale(ref, -3.0).backward();

      CHECK(mi::test::rel_err(loss.item(), ref.item()) <= 1e-12);
      CHECK(max_rel_diff(G.grad(), G3.grad()) <= 1e-12);
      CHECK(max_rel_diff(L.grad(), L3.grad()) <= 1e-12);
    }
  }
}

TEST_CASE("mi_loss_from_scores: float32, no gradient when none is needed, shape errors", "[mi][scores]") {
  const mi::Problem pb{4, 3, 5, 2};
  const mi::test::Features f = mi::test::make_features(pb, 6.0, 7);
  const std::vector<double> S = mi::test::scores_of(pb, f.local, f.global);
  const Tensor s64 = Tensor::from(S, {pb.rows(), pb.cols()}, DType::F64);
  const Tensor s32 = Tensor::from(S, {pb.rows(), pb.cols()}, DType::F32);
  for (Estimator e : {Estimator::jsd, Estimator::infonce, Estimator::dv}) {
    const double ref = mi_loss_from_scores(s64, pb.B, pb.K, e).item();
    const Tensor loss = mi_loss_from_scores(s32, pb.B, pb.K, e);
    CHECK(loss.dtype() == DType::F32);
    CHECK(!loss.requires_grad());
    CHECK(mi::test::rel_err(loss.item(), ref) <= 1e-5);
  }
  CHECK_THROWS_WITH(mi_loss_from_scores(s64, pb.B, 3, Estimator::jsd),
                    Catch::Contains("mi_loss_from_scores") && Catch::Contains("[8, 12]"));
  CHECK_THROWS_WITH(mi_loss_from_scores(s64, 5, 1, Estimator::jsd), Catch::Contains("[8, 12]"));
  CHECK_THROWS_WITH(mi_loss_from_scores(reshape(s64, {96}), pb.B, pb.K, Estimator::jsd),
                    Catch::Contains("[96]"));
  CHECK_THROWS_WITH(mi_loss_from_scores(Tensor::from({1, 2, 3, 4}, {1, 4}, DType::F64), 1, 1, Estimator::dv),
                    Catch::Contains("mi_loss_from_scores") && Catch::Contains("negative pairs"));
}
