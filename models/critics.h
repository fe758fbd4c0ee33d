// Critics and heads (dim-reference.md §3, §5): the encode-and-dot-product critic that maps local
// vectors and Y to a shared space where a pair's score is a dot product, the prior
// discriminator, and the classification probes.
#pragma once
#include <memory>

#include "engine/nn/module.h"

namespace imx::models {

// h = LayerNorm_channels(conv1x1(units, bias)(ReLU(BN(conv1x1(units)(x)))) + shortcut(x)),
// on [N, C, H, W] (local map) or [N, C] (treated as a 1×1 map).
class DotEncoderBlock : public nn::Module {
 public:
  DotEncoderBlock(int64_t in, int64_t units, Generator& gen);
  Tensor forward(const Tensor& x);

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_, shortcut_;
  std::shared_ptr<nn::BatchNorm> bn_;
  std::shared_ptr<nn::LayerNormChannels> ln_;
};

// Local and global encoders of the critic; scores are <local_enc(l), global_enc(y)>.
class DotCritic : public nn::Module {
 public:
  DotCritic(int64_t local_channels, int64_t y_dim, int64_t units, Generator& gen);
  // [N, C, M, M] -> [N, M*M, units]
  Tensor encode_local(const Tensor& local_map);
  // [N, y_dim] -> [N, 1, units]
  Tensor encode_global(const Tensor& y);

 private:
  int64_t units_;
  std::shared_ptr<DotEncoderBlock> local_, global_;
};

// D(sigmoid(Y)): MLP 1000 -> ReLU -> 200 -> ReLU -> 1, biases, no norm.
class PriorDiscriminator : public nn::Module {
 public:
  PriorDiscriminator(int64_t y_dim, Generator& gen);
  Tensor forward(const Tensor& z);  // [N, y_dim] -> [N, 1]

 private:
  std::shared_ptr<nn::Linear> l1_, l2_, l3_;
};

// Linear 200 -> dropout 0.1 -> BN -> ReLU -> linear n_classes, on detached features.
class Probe : public nn::Module {
 public:
  Probe(int64_t features, int64_t classes, Generator& gen, uint64_t dropout_seed);
  Tensor forward(const Tensor& features);  // [N, features] -> logits [N, classes]

 private:
  std::shared_ptr<nn::Linear> l1_, l2_;
  std::shared_ptr<nn::Dropout> drop_;
  std::shared_ptr<nn::BatchNorm> bn_;
};

}  // namespace imx::models
