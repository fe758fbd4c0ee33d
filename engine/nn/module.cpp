#include "engine/nn/module.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/backend.h"

namespace imx::nn {

Tensor Module::add_parameter(const std::string& name, Tensor t) {
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::add_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, t);
  return t;
}

void Module::collect(const std::string& prefix, bool buffers, Named& out) const {
  for (const auto& [name, t] : buffers ? buffers_ : params_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", buffers, out);
}

Named Module::named_parameters() const {
  Named out;
  collect("", false, out);
  return out;
}

Named Module::named_buffers() const {
  Named out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Generator*>> Module::named_generators() const {
  std::vector<std::pair<std::string, Generator*>> out(generators_);
  for (auto& [name, child] : children_)
    for (auto& [sub, gen] : child->named_generators()) out.emplace_back(name + "." + sub, gen);
  return out;
}

std::vector<Module*> Module::modules() {
  std::vector<Module*> out{this};
  for (auto& [name, child] : children_)
    for (Module* m : child->modules()) out.push_back(m);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
  auto move = [device](Tensor t) {
    if (t.device() == device) return;
    t.impl().storage = t.to(device).impl().storage;
    t.zero_grad();
  };
  for (auto& [name, t] : named_parameters()) move(t);
  for (auto& [name, t] : named_buffers()) move(t);
}

void Module::to(DType dtype) {
  auto convert = [dtype](Tensor t) {
    if (t.dtype() == dtype) return;
    t.impl().storage = t.to(dtype).impl().storage;
    t.impl().dtype = dtype;
    t.zero_grad();
  };
  for (auto& [name, t] : named_parameters()) convert(t);
  for (auto& [name, t] : named_buffers()) convert(t);
}

Tensor default_weight(const Shape& shape, int64_t fan_in, Generator& gen) {
  // kaiming_uniform(a = sqrt(5)): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in)
  // = 1 / sqrt(fan_in).
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return uniform(shape, -bound, bound, gen);
}

Tensor default_bias(int64_t n, int64_t fan_in, Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return uniform({n}, -bound, bound, gen);
}

Linear::Linear(int64_t in, int64_t out, bool has_bias, Generator& gen) {
  weight = add_parameter("weight", default_weight({out, in}, in, gen));
  if (has_bias) bias = add_parameter("bias", default_bias(out, in, gen));
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad,
               bool has_bias, Generator& gen)
    : stride_(stride), pad_(pad) {
  const int64_t fan_in = in * kernel * kernel;
  weight = add_parameter("weight", default_weight({out, in, kernel, kernel}, fan_in, gen));
  if (has_bias) bias = add_parameter("bias", default_bias(out, fan_in, gen));
}

BatchNorm::BatchNorm(int64_t channels, double momentum, double eps)
    : momentum_(momentum), eps_(eps) {
  weight = add_parameter("weight", Tensor::full({channels}, 1.0));
  bias = add_parameter("bias", Tensor::zeros({channels}));
  running_mean = add_buffer("running_mean", Tensor::zeros({channels}));
  running_var = add_buffer("running_var", Tensor::full({channels}, 1.0));
}

// Training-mode batch norm from composed ops, with the sums of x and x^2 over every rank's
// batch: the gradient flows through the sum over ranks to the other ranks' inputs, as the
// whole batch's batch norm would send it.
Tensor BatchNorm::synchronized(const Tensor& x) {
  check(x.dim() == 2 || x.dim() == 4, "batch_norm", "synchronized batch norm needs [N, C] or [N, C, H, W], got " +
                                                        x.describe());
  const int64_t c = x.size(1);
  Shape stat(x.dim(), 1);
  stat[1] = c;
  const double count = static_cast<double>(x.numel() / c) * ranks_.ranks;  // equal batches on every rank
  const Tensor sums = ranks_.sum(concat({sum_to(x, stat), sum_to(square(x), stat)}, 1));
  const Tensor mean = scale(slice(sums, 1, 0, c), 1.0 / count);
  const Tensor var = sub(scale(slice(sums, 1, c, 2 * c), 1.0 / count), square(mean));  // biased, as BN normalizes
  const Tensor inv_std = div(Tensor::full(stat, 1.0, x.dtype(), x.device()), sqrt(add_scalar(var, eps_)));
  const Tensor y = add(mul(mul(sub(x, mean), inv_std), reshape(weight, stat)), reshape(bias, stat));
  {
    NoGrad no_grad;  // running statistics: unbiased variance, as batch_norm keeps them
    running_mean.copy_from(add(scale(running_mean, 1 - momentum_), scale(reshape(mean, {c}), momentum_)));
    running_var.copy_from(
        add(scale(running_var, 1 - momentum_), scale(reshape(var, {c}), momentum_ * count / std::max(1.0, count - 1))));
  }
  return y;
}

LayerNormChannels::LayerNormChannels(int64_t channels, double eps) : eps_(eps) {
  weight = add_parameter("weight", Tensor::full({channels}, 1.0));
  bias = add_parameter("bias", Tensor::zeros({channels}));
}

}  // namespace imx::nn
