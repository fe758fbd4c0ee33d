// Layer blocks in the reference code's order: layer, then batch-norm (if any), then ReLU, then
// max-pooling (if any). Layers followed by batch-norm have no bias.
#pragma once
#include <memory>

#include "engine/nn/module.h"

namespace imx::models {

struct ConvSpec {
  int64_t out, kernel, stride, pad;
  bool batch_norm = true, relu = true;
  int64_t pool = 0, pool_stride = 0;  // max-pool window and stride; 0 = none
};

class ConvBlock : public nn::Module {
 public:
  ConvBlock(int64_t in, const ConvSpec& spec, Generator& gen);
  Tensor forward(const Tensor& x);

 private:
  ConvSpec spec_;
  std::shared_ptr<nn::Conv2d> conv_;
  std::shared_ptr<nn::BatchNorm> bn_;
};

class LinearBlock : public nn::Module {
 public:
  LinearBlock(int64_t in, int64_t out, bool batch_norm, bool relu, Generator& gen);
  Tensor forward(const Tensor& x);

 private:
  bool relu_;
  std::shared_ptr<nn::Linear> linear_;
  std::shared_ptr<nn::BatchNorm> bn_;
};

// [N, C, M, M] -> [N*M*M, C]: one row per local vector, image-major, the order of the MI
// kernels' local features and of the score matrices' columns.
Tensor local_rows(const Tensor& map);

// The local map [N, C, M, M] reduced to a vector: conv 3x3 -> 64, BN, ReLU, conv 3x3 -> 32, BN,
// ReLU, flatten (32·M·M features).
class MapReducer : public nn::Module {
 public:
  MapReducer(int64_t local_channels, int64_t map_size, Generator& gen);
  Tensor forward(const Tensor& local_map);
  int64_t features() const { return features_; }

 private:
  std::shared_ptr<ConvBlock> conv0_, conv1_;
  int64_t features_;
};

}  // namespace imx::models
