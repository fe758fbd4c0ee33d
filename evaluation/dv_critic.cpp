#include "evaluation/dv_critic.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/progress.h"

namespace imx::eval {

Tensor dv_bound(const Tensor& t_joint, const Tensor& t_marginal) {
  // log mean e^t = c + log mean e^(t - c) with c = max t, a constant for autograd (the gradient
  // of the left side does not depend on c).
  const std::vector<double> m = t_marginal.to_vector();
  check(!m.empty(), "dv_bound", "no marginal samples");
  const double c = *std::max_element(m.begin(), m.end());
  const Tensor log_mean_exp = add_scalar(log(mean(exp(add_scalar(t_marginal, -c)))), c);
  return sub(mean(t_joint), log_mean_exp);
}

double train_dv_critic(ScalarMlp& critic, const DvSampler& sample, const DvOptions& o) {
  check(o.steps >= 1 && o.batch >= 2, "train_dv_critic", "need steps >= 1 and batch >= 2");
  Adam opt(critic.parameters(), o.lr);
  std::mt19937_64 rng(o.seed);
  critic.train();
  tools::Progress progress(o.progress_label, static_cast<long>(o.steps), o.progress_seconds);
  const int64_t tail_from = o.steps - std::max<int64_t>(1, o.steps / 10);
  double tail_sum = 0;
  for (int64_t s = 0; s < o.steps; ++s) {
    const DvBatch b = sample(rng, o.batch);
    // One forward for both halves, so both see the same parameters and one product.
    const Tensor t = critic.forward(concat({b.joint, b.marginal}, 0).to(o.device));
    const int64_t n = b.joint.size(0);
    const Tensor bound = dv_bound(slice(t, 0, 0, n), slice(t, 0, n, t.size(0)));
    opt.zero_grad();
    neg(bound).backward();
    opt.step();
    const double value = bound.item();
    check(std::isfinite(value), "train_dv_critic",
          "the DV bound became " + std::to_string(value) + " at step " + std::to_string(s) + " (lower the lr)");
    if (s >= tail_from) tail_sum += value;
    if (!o.progress_label.empty())
      progress.update(s + 1, static_cast<double>((s + 1) * o.batch), "bound " + std::to_string(value).substr(0, 6));
  }
  critic.eval();
  return tail_sum / static_cast<double>(o.steps - tail_from);
}

double dv_bound_of(ScalarMlp& critic, const Tensor& joint, const Tensor& marginal, Device device) {
  NoGrad no_grad;
  critic.eval();
  auto values = [&](const Tensor& x) {
    std::vector<Tensor> parts;
    const int64_t chunk = 4096;
    for (int64_t b = 0; b < x.size(0); b += chunk)
      parts.push_back(critic.forward(slice(x, 0, b, std::min(x.size(0), b + chunk)).to(device)));
    return concat(parts, 0);
  };
  return dv_bound(values(joint), values(marginal)).item();
}

}  // namespace imx::eval
