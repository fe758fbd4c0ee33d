// NCCL on a real GPU (the GPU bundle runs it): the library loads (dlopen; the PyTorch wheel's
// on the lent machine), its ABI as declared in nccl_communicator.cpp works, and every call of a
// one-rank communicator moves device memory as it should, on the CUDA backend's stream. Two
// NCCL ranks need two GPUs (NCCL refuses two ranks on one device), so the multi-rank paths are
// tested over MPI on the CPU (dist_mpi_tests).
#include <catch.hpp>

#include <vector>

#include "distributed/global_mi.h"
#include "distributed/nccl_communicator.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "losses/dim/dim_losses.h"

using namespace imx;
using namespace imx::dist;

TEST_CASE("NCCL: one rank's collectives on device memory", "[dist][nccl][cuda]") {
  INFO(nccl_unavailable_reason());
  REQUIRE(nccl_unavailable_reason().empty());
  SingleProcess bootstrap;
  Group g(std::make_unique<SingleProcess>(), make_nccl_communicator(bootstrap), 0, 1);
  REQUIRE(g.for_memory(Device::CUDA).name() == "NCCL");
  Tensor t = Tensor::from({1, 2, 3}, {3}).to(Device::CUDA);
  all_reduce(t, g);
  Tensor d = Tensor::from({4, 5}, {2}, DType::F64).to(Device::CUDA);
  all_reduce(d, g, Reduce::max);
  broadcast(t, g);
  const Tensor gathered = all_gather(t, g);
  Tensor ring = Tensor::from({7, 8, 9, 10}, {4}).to(Device::CUDA);
  g.for_memory(Device::CUDA).ring_pass(ring.raw(), ring.nbytes());  // one rank: to itself
  CHECK(t.to_vector() == std::vector<double>{1, 2, 3});
  CHECK(d.to_vector() == std::vector<double>{4, 5});
  CHECK(gathered.to_vector() == std::vector<double>{1, 2, 3});
  CHECK(ring.to_vector() == std::vector<double>{7, 8, 9, 10});
}

TEST_CASE("NCCL: the gather negatives on CUDA tensors give mi_loss's loss and gradients", "[dist][nccl][cuda]") {
  SingleProcess bootstrap;
  Group g(std::make_unique<SingleProcess>(), make_nccl_communicator(bootstrap), 0, 1);
  std::vector<double> lv(4 * 5 * 8), gv(4 * 8);
  for (size_t i = 0; i < lv.size(); ++i) lv[i] = 0.1 * double((i * 37) % 17) - 0.8;
  for (size_t i = 0; i < gv.size(); ++i) gv[i] = 0.1 * double((i * 11) % 13) - 0.6;
  Tensor l = Tensor::from(lv, {4, 5, 8}).to(Device::CUDA).set_requires_grad();
  Tensor y = Tensor::from(gv, {4, 8}).to(Device::CUDA).set_requires_grad();
  Tensor loss = scale_gradient(mi_loss(gather_batch(l, g), gather_batch(y, g), mi::Estimator::infonce), 1.0);
  loss.backward();
  Tensor lc = Tensor::from(lv, {4, 5, 8}).set_requires_grad(), yc = Tensor::from(gv, {4, 8}).set_requires_grad();
  Tensor ref = mi_loss(lc, yc, mi::Estimator::infonce);
  ref.backward();
  CHECK(std::abs(loss.item() - ref.item()) <= 1e-5 * std::abs(ref.item()));
  const auto a = l.grad().to_vector(), b = lc.grad().to_vector();
  for (size_t i = 0; i < a.size(); ++i) CHECK(std::abs(a[i] - b[i]) <= 1e-5);
}
