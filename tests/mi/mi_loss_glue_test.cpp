// The autograd glue of mi_loss / mi_loss_from_scores: only the gradients an input needs are
// formed, and the upstream gradient scales them as a tensor (a device-side multiply on CUDA,
// no host read of it).
#include <catch.hpp>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "losses/dim/dim_losses.h"
#include "losses/dim/mi_cuda_bridge.h"
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

TEST_CASE("the CUDA path choice: cuBLAS while the score matrix fits the budget, fused beyond", "[mi][glue]") {
  using detail::MiCudaPath;
  const detail::MiCudaOptions defaults = detail::mi_cuda_options_from(nullptr, nullptr);
  CHECK(defaults.blas_budget_bytes == std::size_t(256) << 20);
  CHECK(defaults.precision == detail::MiCudaPrecision::fp32);
  // The training sizes fit the default budget: B=64 P=64 (1 MiB), B=512 P=225 K=1 (225 MiB).
  CHECK(detail::choose_mi_cuda_path({64, 64, 512, 1}, mi::Impl::fused, defaults) == MiCudaPath::blas);
  CHECK(detail::choose_mi_cuda_path({512, 225, 2048, 1}, mi::Impl::fused, defaults) == MiCudaPath::blas);
  // K = 4 at B = 512 is 900 MiB: the fused kernels, whose memory stays bounded.
  CHECK(detail::choose_mi_cuda_path({512, 225, 512, 4}, mi::Impl::fused, defaults) == MiCudaPath::fused);
  CHECK(detail::choose_mi_cuda_path({64, 64, 512, 1}, mi::Impl::unfused, defaults) == MiCudaPath::unfused);
  CHECK_THROWS(detail::choose_mi_cuda_path({64, 64, 512, 1}, mi::Impl::naive, defaults));

  const detail::MiCudaOptions never = detail::mi_cuda_options_from("0", "bf16");
  CHECK(never.blas_budget_bytes == 0);
  CHECK(never.precision == detail::MiCudaPrecision::bf16);
  CHECK(detail::choose_mi_cuda_path({2, 1, 1, 1}, mi::Impl::fused, never) == MiCudaPath::fused);
  CHECK(detail::mi_cuda_options_from("1.5", "tf32").blas_budget_bytes == std::size_t(1536) * 1024);
  CHECK_THROWS(detail::mi_cuda_options_from("lots", nullptr));
  CHECK_THROWS(detail::mi_cuda_options_from("-1", nullptr));
  CHECK_THROWS(detail::mi_cuda_options_from(nullptr, "fp16"));
}
