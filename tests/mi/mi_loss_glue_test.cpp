// The autograd glue of mi_loss / mi_loss_from_scores: only the gradients an input needs are
// formed, and the upstream gradient scales them as a tensor (a device-side multiply on CUDA,
// no host read of it).
#include <catch.hpp>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "losses/dim/dim_losses.h"
#include "losses/dim/score_losses.h"
#include "tests/mi/mi_test_util.h"

using namespace imx;
using mi::Estimator;

TEST_CASE("mi_loss forms only the gradients that are needed", "[mi][glue]") {
  const mi::Problem pb{4, 3, 5, 2};
  const mi::test::Features f = mi::test::make_features(pb, 6.0, 3);
  for (Estimator e : {Estimator::jsd, Estimator::infonce}) {
    Tensor L = Tensor::from(f.local, {pb.B, pb.P, pb.D}, DType::F64).set_requires_grad();
    Tensor G = Tensor::from(f.global, {pb.B, pb.K, pb.D}, DType::F64).set_requires_grad();
    scale(mi_loss(L, G, e), 2.5).backward();

    Tensor L_only = Tensor::from(f.local, {pb.B, pb.P, pb.D}, DType::F64).set_requires_grad();
    const Tensor G_fixed = Tensor::from(f.global, {pb.B, pb.K, pb.D}, DType::F64);
    scale(mi_loss(L_only, G_fixed, e), 2.5).backward();
    CHECK(!G_fixed.grad().defined());
    CHECK(mi::test::rel_err(L_only.grad().to_vector(), L.grad().to_vector()) <= 1e-14);

    const Tensor L_fixed = Tensor::from(f.local, {pb.B, pb.P, pb.D}, DType::F64);
    Tensor G_only = Tensor::from(f.global, {pb.B, pb.K, pb.D}, DType::F64).set_requires_grad();
    scale(mi_loss(L_fixed, G_only, e), 2.5).backward();
    CHECK(!L_fixed.grad().defined());
    CHECK(mi::test::rel_err(G_only.grad().to_vector(), G.grad().to_vector()) <= 1e-14);

    // The upstream gradient is a tensor: grad() with an explicit seed scales by it.
    Tensor L2 = Tensor::from(f.local, {pb.B, pb.P, pb.D}, DType::F64).set_requires_grad();
    const Tensor loss = mi_loss(L2, G_fixed, e);
    const std::vector<Tensor> g = grad({loss}, {L2}, {Tensor::full({}, 2.5, DType::F64)});
    CHECK(mi::test::rel_err(g[0].to_vector(), L.grad().to_vector()) <= 1e-14);
  }
}
