#include "engine/optim.h"

#include <algorithm>
#include <cmath>

#include "engine/backend.h"

namespace imx {

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

Adam::Adam(std::vector<Tensor> params, double lr, double beta1, double beta2, double eps,
           double weight_decay)
    : Optimizer(std::move(params), lr), beta1_(beta1), beta2_(beta2), eps_(eps),
      weight_decay_(weight_decay) {
  check(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam",
        "betas must lie in [0, 1), got (" + std::to_string(beta1) + ", " + std::to_string(beta2) +
            ")");
  for (const auto& p : params_) {
    m_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    v_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  }
}

void Adam::step() {
  ++step_;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    backend(params_[i].device())
        .adam_step(params_[i], g, m_[i], v_[i], lr_, beta1_, beta2_, eps_, weight_decay_, step_);
  }
}

SGD::SGD(std::vector<Tensor> params, double lr, double momentum, double weight_decay)
    : Optimizer(std::move(params), lr), momentum_(momentum), weight_decay_(weight_decay) {
  for (const auto& p : params_) buf_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  started_.assign(params_.size(), false);
}

void SGD::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    backend(params_[i].device())
        .sgd_step(params_[i], g, buf_[i], lr_, momentum_, weight_decay_, !started_[i]);
    started_[i] = true;
  }
}

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma)
    : opt_(opt), milestones_(std::move(milestones)), gamma_(gamma), base_lr_(opt.lr()) {
  std::sort(milestones_.begin(), milestones_.end());
}

void MultiStepLR::set_epoch(int64_t epoch) {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), epoch) -
                      milestones_.begin();
  opt_.set_lr(base_lr_ * std::pow(gamma_, static_cast<double>(passed)));
}

}  // namespace imx
