// Parameter containers and the layers DIM's models are made of. Initializers follow PyTorch's
// defaults (kaiming-uniform with a = sqrt(5) for weights, U(±1/sqrt(fan_in)) for biases) so
// results compare with the authors' code.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/ops.h"
#include "engine/random.h"

namespace imx::nn {

using Named = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;

  // Recursive, in registration order, names joined by '.'.
  Named named_parameters() const;
  Named named_buffers() const;  // running statistics
  std::vector<Tensor> parameters() const;
  // Random streams whose position is part of the state (dropout masks), so that a checkpoint
  // can hold them and a resumed run draws what an uninterrupted one would.
  std::vector<std::pair<std::string, Generator*>> named_generators() const;
  // This module and every descendant, depth first in registration order (e.g. to find the
  // batch-norm layers of a model).
  std::vector<Module*> modules();

  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }
  // Moves every parameter and buffer in place (existing handles see the move).
  void to(Device device);
  // Converts every parameter and buffer in place (float64 copies of a model for gradient checks).
  void to(DType dtype);

 protected:
  // Both return the registered handle; layers keep it as a member (handles share data, so the
  // member and the registry see the same tensor, also after to() or an optimizer step).
  Tensor add_parameter(const std::string& name, Tensor t);
  Tensor add_buffer(const std::string& name, Tensor t);
  void add_generator(const std::string& name, Generator* gen) { generators_.emplace_back(name, gen); }
  template <class M>
  std::shared_ptr<M> add_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  void collect(const std::string& prefix, bool buffers, Named& out) const;
  Named params_, buffers_;
  std::vector<std::pair<std::string, Generator*>> generators_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, bool bias, Generator& gen);
  Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }
  Tensor weight, bias;
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad, bool bias,
         Generator& gen);
  Tensor forward(const Tensor& x) const { return conv2d(x, weight, bias, stride_, pad_); }
  Tensor weight, bias;

 private:
  int64_t stride_, pad_;
};

// Works on [N, C] and [N, C, H, W].
class BatchNorm : public Module {
 public:
  explicit BatchNorm(int64_t channels, double momentum = 0.1, double eps = 1e-5);
  // relu: relu(BN(x)), fused into the batch-norm kernels.
  Tensor forward(const Tensor& x, bool relu = false) {
    if (ranks_.sum && training()) return relu ? imx::relu(synchronized(x)) : synchronized(x);
    return batch_norm(x, weight, bias, running_mean, running_var, training(), momentum_, eps_, relu);
  }
  // Synchronized batch norm for data parallelism: in training, the batch statistics are those of
  // the batches of every rank together (`ranks` ranks of equal batches), from this batch's
  // per-channel sums passed through `sum`, a differentiable sum over ranks
  // (distributed/sync_batch_norm.h). Unset (the default): this batch's own statistics.
  struct RankSum {
    std::function<Tensor(const Tensor&)> sum;
    int ranks = 1;
  };
  void synchronize_over(RankSum ranks) { ranks_ = std::move(ranks); }
  Tensor weight, bias, running_mean, running_var;
  // Weight of the current batch in the running-statistics update; 1/(k+1) at the k-th batch
  // (0-based) makes the running statistics the plain average over batches.
  double momentum() const { return momentum_; }
  void set_momentum(double m) { momentum_ = m; }

 private:
  Tensor synchronized(const Tensor& x);
  double momentum_, eps_;
  RankSum ranks_;
};

class LayerNormChannels : public Module {
 public:
  explicit LayerNormChannels(int64_t channels, double eps = 1e-5);
  Tensor forward(const Tensor& x) const { return layer_norm_channels(x, weight, bias, eps_); }
  Tensor weight, bias;

 private:
  double eps_;
};

// Inverted dropout; each call draws a fresh mask from its own generator.
class Dropout : public Module {
 public:
  Dropout(double p, uint64_t seed) : p_(p), gen_(seed) { add_generator("rng", &gen_); }
  Tensor forward(const Tensor& x) {
    if (!training() || p_ == 0) return x;
    return dropout(x, p_, true, gen_.seed(), gen_.advance(x.numel()));
  }

 private:
  double p_;
  Generator gen_;
};

// PyTorch's default initialization of a weight with fan_in inputs per output, and its bias.
Tensor default_weight(const Shape& shape, int64_t fan_in, Generator& gen);
Tensor default_bias(int64_t n, int64_t fan_in, Generator& gen);

}  // namespace imx::nn
