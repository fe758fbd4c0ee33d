#include "evaluation/dependency.h"

#include <algorithm>
#include <numeric>

#include "engine/ops.h"
#include "evaluation/rows.h"
#include "evaluation/standardize.h"

namespace imx::eval {

namespace {

std::vector<uint32_t> random_rows(std::mt19937_64& rng, int64_t rows, int64_t n) {
  std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(rows - 1));
  std::vector<uint32_t> idx(n);
  for (auto& i : idx) i = pick(rng);
  return idx;
}

Tensor permute_columns(const Tensor& y, std::mt19937_64& rng) {
  const int64_t n = y.size(0), d = y.size(1);
  Tensor out = Tensor::empty({n, d});
  const float* src = y.data<float>();
  float* dst = out.data<float>();
  std::vector<int64_t> perm(n);
  for (int64_t j = 0; j < d; ++j) {
    std::iota(perm.begin(), perm.end(), int64_t{0});
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int64_t i = 0; i < n; ++i) dst[i * d + j] = src[perm[i] * d + j];
  }
  return out;
}

Tensor permute_rows(const Tensor& y, std::mt19937_64& rng) {
  std::vector<uint32_t> perm(y.size(0));
  std::iota(perm.begin(), perm.end(), 0u);
  std::shuffle(perm.begin(), perm.end(), rng);
  return gather_rows(y, perm);
}

void check_pairs(const char* op, const Tensor& a, const Tensor& b) {
  check(a.dim() == 2 && b.dim() == 2 && a.size(0) == b.size(0) && a.size(0) >= 2, op,
        "need paired [N, F] matrices with N >= 2, got " + a.describe() + " and " + b.describe());
}

}  // namespace

Tensor shuffle_each_column(const Tensor& y, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return permute_columns(y, rng);
}

double neural_dependency_measure(const Tensor& y_train, const Tensor& y_test, DvOptions o) {
  check(y_train.dim() == 2 && y_test.dim() == 2 && y_train.size(1) == y_test.size(1), "neural_dependency_measure",
        "train " + y_train.describe() + " and test " + y_test.describe() + " differ in width");
  if (o.hidden.empty()) o.hidden = {1000, 200};
  const Standardizer scale = Standardizer::fit(y_train);
  const Tensor train = scale.apply(y_train), test = scale.apply(y_test);
  const int64_t rows = train.size(0);
  Generator gen(o.seed);
  ScalarMlp critic(train.size(1), o.hidden, gen);
  critic.to(o.device);
  train_dv_critic(critic, [&](std::mt19937_64& rng, int64_t n) {
    const Tensor batch = gather_rows(train, random_rows(rng, rows, n));
    return DvBatch{batch, permute_columns(batch, rng)};
  }, o);
  return dv_bound_of(critic, test, shuffle_each_column(test, o.seed + 1), o.device);
}

double mine_mutual_information(const Tensor& x_train, const Tensor& y_train, const Tensor& x_test,
                               const Tensor& y_test, DvOptions o) {
  check_pairs("mine_mutual_information", x_train, y_train);
  check_pairs("mine_mutual_information", x_test, y_test);
  if (o.hidden.empty()) o.hidden = {512, 512};
  const Standardizer sx = Standardizer::fit(x_train), sy = Standardizer::fit(y_train);
  const Tensor xtr = sx.apply(x_train), ytr = sy.apply(y_train);
  const Tensor xte = sx.apply(x_test), yte = sy.apply(y_test);
  const int64_t rows = xtr.size(0);
  Generator gen(o.seed);
  ScalarMlp critic(xtr.size(1) + ytr.size(1), o.hidden, gen);
  critic.to(o.device);
  train_dv_critic(critic, [&](std::mt19937_64& rng, int64_t n) {
    const std::vector<uint32_t> idx = random_rows(rng, rows, n);
    const Tensor x = gather_rows(xtr, idx), y = gather_rows(ytr, idx);
    return DvBatch{concat({x, y}, 1), concat({x, permute_rows(y, rng)}, 1)};
  }, o);
  std::mt19937_64 rng(o.seed + 1);
  return dv_bound_of(critic, concat({xte, yte}, 1), concat({xte, permute_rows(yte, rng)}, 1), o.device);
}

}  // namespace imx::eval
