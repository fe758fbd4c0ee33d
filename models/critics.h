// Critics and heads (dim-reference.md §3, §5): the encode-and-dot-product critic that maps local
// vectors and Y to a shared space where a pair's score is a dot product, the prior
// discriminator, and the classification probes.
#pragma once
#include <memory>

#include "models/blocks.h"

namespace imx::models {

// h = LayerNorm(linear(units, bias)(ReLU(BN(linear(units)(x)))) + shortcut(x)) on rows
// [R, in], one row per local vector or per Y. The reference writes these layers as 1x1
// convolutions over the map; on rows they are plain products with no im2col or layout copies,
// and batch-norm over rows has the same statistics as over (N, H, W).
class DotEncoderBlock : public nn::Module {
 public:
  DotEncoderBlock(int64_t in, int64_t units, Generator& gen);
  Tensor forward(const Tensor& rows);  // [R, in] -> [R, units]

 private:
  std::shared_ptr<nn::Linear> hidden_, out_, shortcut_;
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

// The authors' dot-product global critic (DIM(G)): the local map reduced and flattened
// (MapReducer) and Y are each encoded to `units` by a DotEncoderBlock; a pair's score is their
// dot product, so the fused MI kernels score it with P = 1 location per image.
class GlobalDotCritic : public nn::Module {
 public:
  GlobalDotCritic(int64_t local_channels, int64_t map_size, int64_t y_dim, int64_t units, Generator& gen);
  Tensor encode_map(const Tensor& local_map);  // [N, C, M, M] -> [N, 1, units]
  Tensor encode_global(const Tensor& y);       // [N, y_dim] -> [N, units]

 private:
  int64_t units_;
  std::shared_ptr<MapReducer> reducer_;
  std::shared_ptr<DotEncoderBlock> map_, global_;
};

// Coordinate prediction (paper Table 5): from [local vector at (i, j); Y], a 1x1 net
// (units, ReLU, 2M logits) predicts the row i and the column j as two M-way classifications.
// The first layer is split by linearity, as in the concat critics.
class CoordinatePredictor : public nn::Module {
 public:
  CoordinatePredictor(int64_t local_channels, int64_t map_size, int64_t y_dim, int64_t units, Generator& gen);
  // [N*M*M, 2M]: row n*M*M + i*M + j holds the row logits (first M) and column logits (last M).
  Tensor logits(const Tensor& local_map, const Tensor& y);
  // CE(row) + CE(col), each averaged over images and locations.
  Tensor loss(const Tensor& local_map, const Tensor& y);

 private:
  int64_t map_size_, units_;
  std::shared_ptr<nn::Linear> local_proj_, global_proj_, out_;
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
