// Optimizers (PyTorch's update rules) and a multi-step learning-rate schedule.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace imx {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {}
  virtual ~Optimizer() = default;
  // Updates every parameter that has a gradient.
  virtual void step() = 0;
  void zero_grad();
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  const std::vector<Tensor>& params() const { return params_; }

 protected:
  std::vector<Tensor> params_;
  double lr_;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, double lr, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-8, double weight_decay = 0.0);
  void step() override;
  int64_t steps() const { return step_; }
  // Moments, exposed for checkpoints: m_[i], v_[i] belong to params()[i].
  std::vector<Tensor>& first_moments() { return m_; }
  std::vector<Tensor>& second_moments() { return v_; }
  void set_steps(int64_t s) { step_ = s; }

 private:
  double beta1_, beta2_, eps_, weight_decay_;
  int64_t step_ = 0;
  std::vector<Tensor> m_, v_;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, double lr, double momentum = 0.0, double weight_decay = 0.0);
  void step() override;

 private:
  double momentum_, weight_decay_;
  std::vector<Tensor> buf_;
  std::vector<bool> started_;
};

// lr = base_lr * gamma^(number of milestones <= epoch).
class MultiStepLR {
 public:
  MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma);
  // Sets the optimizer's rate for the given (0-based) epoch.
  void set_epoch(int64_t epoch);

 private:
  Optimizer& opt_;
  std::vector<int64_t> milestones_;
  double gamma_, base_lr_;
};

}  // namespace imx
