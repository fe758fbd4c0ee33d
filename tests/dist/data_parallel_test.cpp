// Data parallelism over real MPI ranks (run as mpirun -np 2): the MI loss with global-batch
// negatives against one process of the whole batch, ring against gather, gradient averaging,
// and a model whose weights stay bit-identical across ranks while training.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "distributed/data_parallel.h"
#include "distributed/global_mi.h"
#include "distributed/sync_batch_norm.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "losses/dim/dim_losses.h"
#include "models/deep_infomax.h"
#include "tests/dist/mpi_session.h"

using namespace imx;
using namespace imx::dist;
using imx::dist::test::group;

namespace {

// The same pseudo-random tensor on every rank for a given seed.
Tensor random_tensor(const Shape& shape, uint64_t seed, double scale, DType dtype) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> v(numel(shape));
  for (double& x : v) x = normal(rng);
  return Tensor::from(v, shape, dtype);
}

double max_rel_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  REQUIRE(x.size() == y.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) num = std::max(num, std::abs(x[i] - y[i])), den = std::max(den, std::abs(y[i]));
  return den > 0 ? num / den : num;
}

struct Result {
  double loss;
  Tensor dlocal, dglobal;
};

// This rank's shard of the whole batch through global_mi_loss: the loss and the gradients its
// backward gives (which carry the factor N of the data-parallel average).
Result on_shard(const Tensor& local_all, const Tensor& global_all, mi::Estimator e, Negatives how) {
  Group& g = group();
  const int64_t b = local_all.size(0) / g.size(), first = g.rank() * b;
  Tensor local = slice(local_all, 0, first, first + b).detach().set_requires_grad();
  Tensor global = slice(global_all, 0, first, first + b).detach().set_requires_grad();
  Tensor loss = global_mi_loss(local, global, e, g, how);
  loss.backward();
  return {loss.item(), local.grad(), global.grad()};
}

// One process holding the whole batch: the reference, sliced to this rank's images.
Result whole_batch(const Tensor& local_all, const Tensor& global_all, mi::Estimator e) {
  Group& g = group();
  const int64_t b = local_all.size(0) / g.size(), first = g.rank() * b;
  Tensor local = local_all.detach().set_requires_grad(), global = global_all.detach().set_requires_grad();
  Tensor loss = mi_loss(local, global, e, mi::Impl::naive);
  loss.backward();
  return {loss.item(), slice(local.grad(), 0, first, first + b), slice(global.grad(), 0, first, first + b)};
}

}  // namespace

TEST_CASE("global negatives: N ranks of batch b give one process's loss and gradients of batch N*b",
          "[dist][mi]") {
  const int ranks = group().size();
  for (DType dtype : {DType::F64, DType::F32}) {
    const double tol = dtype == DType::F64 ? 1e-11 : 2e-5;
    for (int64_t K : {1, 2}) {
      const int64_t b = 3, P = 4, D = 6;
      const Tensor local_all = random_tensor({b * ranks, P, D}, 11 + K, 0.7, dtype);
      const Tensor global_all = random_tensor({b * ranks, K, D}, 23 + K, 0.7, dtype);
      for (mi::Estimator e : mi::kAllEstimators) {
        INFO(std::string(mi::estimator_name(e)) + " K=" + std::to_string(K) + " " + dtype_name(dtype));
        const Result ref = whole_batch(local_all, global_all, e);
        for (Negatives how : {Negatives::ring, Negatives::gather}) {
          INFO(std::string(negatives_name(how)));
          const Result r = on_shard(local_all, global_all, e, how);
          CHECK(std::abs(r.loss - ref.loss) <= tol * std::max(1.0, std::abs(ref.loss)));
          // The backward's factor N: averaged over the ranks it gives the whole gradient.
          CHECK(max_rel_diff(scale(r.dlocal, 1.0 / ranks), ref.dlocal) <= tol);
          CHECK(max_rel_diff(scale(r.dglobal, 1.0 / ranks), ref.dglobal) <= tol);
        }
      }
    }
  }
}

TEST_CASE("global negatives: the ring equals the all-gather version, and local negatives differ", "[dist][mi]") {
  const int ranks = group().size();
  const Tensor local_all = random_tensor({8 * ranks, 9, 16}, 5, 0.5, DType::F32);
  const Tensor global_all = random_tensor({8 * ranks, 16}, 6, 0.5, DType::F32);
  for (mi::Estimator e : {mi::Estimator::jsd, mi::Estimator::dv, mi::Estimator::infonce}) {
    INFO(std::string(mi::estimator_name(e)));
    const Result ring = on_shard(local_all, global_all, e, Negatives::ring);
    const Result gather = on_shard(local_all, global_all, e, Negatives::gather);
    CHECK(std::abs(ring.loss - gather.loss) <= 1e-5 * std::abs(gather.loss));
    CHECK(max_rel_diff(ring.dlocal, gather.dlocal) <= 1e-5);
    CHECK(max_rel_diff(ring.dglobal, gather.dglobal) <= 1e-5);
    // Plain data parallelism sees fewer negatives: another loss (the test can tell them apart).
    const Result local = on_shard(local_all, global_all, e, Negatives::local);
    CHECK(std::abs(local.loss - gather.loss) > 1e-3 * std::abs(gather.loss));
  }
}

TEST_CASE("collectives: all_reduce, broadcast, all_gather and gradient averaging", "[dist]") {
  Group& g = group();
  const int r = g.rank(), n = g.size();
  Tensor t = Tensor::full({3}, r + 1.0);
  all_reduce(t, g);
  CHECK(t.to_vector() == std::vector<double>(3, n * (n + 1) / 2.0));
  Tensor m = Tensor::full({2}, 10.0 * r, DType::F64);
  all_reduce(m, g, Reduce::max);
  CHECK(m.to_vector() == std::vector<double>(2, 10.0 * (n - 1)));
  Tensor bc = Tensor::full({4}, r == 0 ? 7.0 : -1.0);
  broadcast(bc, g);
  CHECK(bc.to_vector() == std::vector<double>(4, 7.0));
  const Tensor gathered = all_gather(Tensor::full({1, 2}, double(r)), g);
  REQUIRE(gathered.shape() == Shape{n, 2});
  for (int k = 0; k < n; ++k) CHECK(gathered.to_vector()[2 * k] == k);

  // Gradients of three parameters (one without a .grad on any rank), in buckets small enough
  // to split them: each becomes the mean over ranks.
  std::vector<Tensor> params{Tensor::zeros({5}).set_requires_grad(), Tensor::zeros({2, 3}).set_requires_grad(),
                             Tensor::zeros({4}).set_requires_grad()};
  Tensor loss = add(sum(scale(params[0], r + 1.0)), sum(scale(params[1], 2.0 * r)));
  loss.backward();
  average_gradients(params, g, /*bucket_bytes=*/24);
  CHECK(params[0].grad().to_vector() == std::vector<double>(5, (n + 1) / 2.0));
  CHECK(params[1].grad().to_vector() == std::vector<double>(6, double(n - 1)));
  CHECK(params[2].grad().to_vector() == std::vector<double>(4, 0.0));
}

TEST_CASE("data parallel: weights stay bit-identical across ranks while training", "[dist][model]") {
  Group& g = group();
  models::DimConfig config;
  config.mi_units = 32;
  config.estimator = mi::Estimator::infonce;
  config.seed = 100 + g.rank();  // different on purpose: broadcast_state must make them equal
  auto model = std::make_shared<models::DeepInfoMax>(config);
  broadcast_state(*model, g);
  REQUIRE(same_on_every_rank(*model, g));
  model->set_mi_loss([&g](const Tensor& l, const Tensor& y, mi::Estimator e) {
    return global_mi_loss(l, y, e, g, Negatives::ring);
  });
  Adam opt(model->encoder_parameters(), 1e-3);
  for (uint64_t step = 0; step < 3; ++step) {
    // Each rank its own images.
    const Tensor x = random_tensor({4, 1, 28, 28}, 1000 * step + g.rank(), 1.0, DType::F32);
    opt.zero_grad();
    auto enc = model->encoder_loss(x, step);
    enc.objective.total().backward();
    average_gradients(opt.params(), g);
    opt.step();
    average_buffers(*model, g);
    CHECK(same_on_every_rank(*model, g));
  }
  // Without the averaging the ranks drift apart (so the check above can fail).
  const Tensor x = random_tensor({4, 1, 28, 28}, 77 + g.rank(), 1.0, DType::F32);
  opt.zero_grad();
  auto enc = model->encoder_loss(x, 9);
  enc.objective.total().backward();
  opt.step();
  CHECK_FALSE(same_on_every_rank(*model, g));
}

TEST_CASE("synchronized batch norm: N ranks of batch b give one process's batch norm of batch N*b", "[dist][bn]") {
  Group& g = group();
  const int ranks = g.size();
  for (const Shape& shard_shape : {Shape{3, 4, 2, 5}, Shape{5, 6}}) {
    Shape whole_shape = shard_shape;
    whole_shape[0] *= ranks;
    const int64_t b = shard_shape[0], c = shard_shape[1], first = g.rank() * b;
    const Tensor x_all = random_tensor(whole_shape, 3, 2.0, DType::F64);
    const Tensor w_all = random_tensor(whole_shape, 4, 1.0, DType::F64);  // the loss sum(y * w)
    auto make_bn = [&] {
      auto bn = std::make_shared<nn::BatchNorm>(c);
      bn->to(DType::F64);
      bn->weight.copy_from(random_tensor({c}, 5, 1.0, DType::F64));
      bn->bias.copy_from(random_tensor({c}, 6, 1.0, DType::F64));
      return bn;
    };
    // One process, the whole batch.
    auto ref = make_bn();
    Tensor x = x_all.detach().set_requires_grad();
    Tensor y_ref = ref->forward(x);
    sum(mul(y_ref, w_all)).backward();
    // N ranks, each its shard, synchronized.
    auto bn = make_bn();
    REQUIRE(synchronize_batch_norm(*bn, g) == 1);
    Tensor xs = slice(x_all, 0, first, first + b).detach().set_requires_grad();
    Tensor ys = bn->forward(xs);
    sum(mul(ys, slice(w_all, 0, first, first + b))).backward();
    CHECK(max_rel_diff(ys, slice(y_ref, 0, first, first + b)) <= 1e-12);
    CHECK(max_rel_diff(xs.grad(), slice(x.grad(), 0, first, first + b)) <= 1e-12);
    // The whole batch's loss is the sum of the ranks' losses: its parameter gradients too.
    Tensor dw = bn->weight.grad().clone(), db = bn->bias.grad().clone();
    all_reduce(dw, g);
    all_reduce(db, g);
    CHECK(max_rel_diff(dw, ref->weight.grad()) <= 1e-12);
    CHECK(max_rel_diff(db, ref->bias.grad()) <= 1e-12);
    CHECK(max_rel_diff(bn->running_mean, ref->running_mean) <= 1e-12);
    CHECK(max_rel_diff(bn->running_var, ref->running_var) <= 1e-12);
  }
}
