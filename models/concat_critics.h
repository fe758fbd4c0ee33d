// The concat-and-convolve critics (dim-reference.md §3): a critic that scores a pair from the
// concatenation of its two sides, not from a dot product. Both feed the estimators through a
// score matrix (losses/dim/score_losses.h).
//   local:  Y broadcast over the M×M map, concatenated with each local vector, scored by 1x1
//           layers 512 -> 512 -> 1 (paper figure 3);
//   global: the local map reduced by two 3x3 convolutions and flattened, concatenated with Y,
//           scored by an MLP 512 -> 512 -> 1.
// Both use the linearity of the first layer (models/pair_scorer.h).
#pragma once
#include <memory>

#include "models/blocks.h"
#include "models/pair_scorer.h"

namespace imx::models {

class ConcatLocalCritic : public nn::Module {
 public:
  ConcatLocalCritic(int64_t local_channels, int64_t y_dim, int64_t units, Generator& gen);
  // local_map [G, C, M, M], y [G, y_dim] -> scores [G, G*M*M]: row i is image i's Y, column
  // j*M*M + p is location p of image j (j == i: the positives).
  Tensor scores(const Tensor& local_map, const Tensor& y);
  const PairScorer& scorer() const { return *scorer_; }

 private:
  std::shared_ptr<nn::Linear> local_proj_, global_proj_;
  std::shared_ptr<PairScorer> scorer_;
};

class GlobalConcatCritic : public nn::Module {
 public:
  GlobalConcatCritic(int64_t local_channels, int64_t map_size, int64_t y_dim, int64_t units,
                     Generator& gen);
  // local_map [N, C, M, M], y [N, y_dim] -> scores [N, N]: row i = Y of image i, column j =
  // the map of image j.
  Tensor scores(const Tensor& local_map, const Tensor& y);

 private:
  std::shared_ptr<MapReducer> reducer_;
  std::shared_ptr<nn::Linear> map_proj_, global_proj_;
  std::shared_ptr<PairScorer> scorer_;
};

}  // namespace imx::models
