#include "models/concat_critics.h"

namespace imx::models {

ConcatLocalCritic::ConcatLocalCritic(int64_t local_channels, int64_t y_dim, int64_t units, Generator& gen) {
  // The first 1x1 layer over [local; Y], split by linearity: its bias sits on the Y side.
  local_proj_ = add_module("local_proj", std::make_shared<nn::Linear>(local_channels, units, false, gen));
  global_proj_ = add_module("global_proj", std::make_shared<nn::Linear>(y_dim, units, true, gen));
  scorer_ = add_module("scorer", std::make_shared<PairScorer>(units, gen));
}

Tensor ConcatLocalCritic::scores(const Tensor& local_map, const Tensor& y) {
  check(local_map.dim() == 4 && y.dim() == 2 && local_map.size(0) == y.size(0), "ConcatLocalCritic",
        "expects a local map [G, C, M, M] and Y [G, D] of the same images, got " +
            shape_str(local_map.shape()) + " and " + shape_str(y.shape()));
  return scorer_->forward(local_proj_->forward(local_rows(local_map)), global_proj_->forward(y));
}

GlobalConcatCritic::GlobalConcatCritic(int64_t local_channels, int64_t map_size, int64_t y_dim,
                                       int64_t units, Generator& gen) {
  reducer_ = add_module("reducer", std::make_shared<MapReducer>(local_channels, map_size, gen));
  map_proj_ = add_module("map_proj", std::make_shared<nn::Linear>(reducer_->features(), units, false, gen));
  global_proj_ = add_module("global_proj", std::make_shared<nn::Linear>(y_dim, units, true, gen));
  scorer_ = add_module("scorer", std::make_shared<PairScorer>(units, gen));
}

Tensor GlobalConcatCritic::scores(const Tensor& local_map, const Tensor& y) {
  check(local_map.dim() == 4 && y.dim() == 2 && local_map.size(0) == y.size(0), "GlobalConcatCritic",
        "expects a local map [N, C, M, M] and Y [N, D] of the same images, got " +
            shape_str(local_map.shape()) + " and " + shape_str(y.shape()));
  return scorer_->forward(map_proj_->forward(reducer_->forward(local_map)), global_proj_->forward(y));
}

}  // namespace imx::models
