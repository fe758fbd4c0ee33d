#include "models/pair_scorer.h"

namespace imx::models {

PairScorer::PairScorer(int64_t units, Generator& gen) : units_(units) {
  hidden_ = add_module("hidden", std::make_shared<nn::Linear>(units, units, true, gen));
  out_ = add_module("out", std::make_shared<nn::Linear>(units, 1, true, gen));
}

Tensor PairScorer::forward(const Tensor& a, const Tensor& c) {
  check(a.dim() == 2 && c.dim() == 2 && a.size(1) == units_ && c.size(1) == units_, "PairScorer",
        "expects [Na, " + std::to_string(units_) + "] and [Nc, " + std::to_string(units_) + "], got " +
            shape_str(a.shape()) + " and " + shape_str(c.shape()));
  const int64_t na = a.size(0), nc = c.size(0);
  // h1[i, j] = relu(c[i] + a[j]) for every pair, by broadcasting [1, Na, U] + [Nc, 1, U].
  Tensor h1 = relu(add(reshape(a, {1, na, units_}), reshape(c, {nc, 1, units_})));
  Tensor h2 = relu(hidden_->forward(reshape(h1, {nc * na, units_})));
  return reshape(out_->forward(h2), {nc, na});
}

}  // namespace imx::models
