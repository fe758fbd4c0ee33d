// Weighted k-nearest-neighbour classification on frozen features, as the self-supervised
// literature reports it (Wu et al. 2018): cosine similarity, the k most similar training
// images vote for their label with weight exp(similarity / τ); k = 20, τ = 0.07. No training.
// Similarities come from matrix products of blocks of queries with all training features
// (normalized by precomputed norms, so the training matrix is never copied), and the top k of
// each row are selected on the host.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "evaluation/features.h"

namespace imx::eval {

struct KnnOptions {
  int64_t k = 20;
  double temperature = 0.07;
  int64_t block = 512;          // queries per matrix product
  Device device = Device::CPU;  // where the products run (the training matrix is copied there once)
  std::string progress_label;   // empty = no progress lines
  double progress_seconds = 5.0;
};

// The k most similar training rows of each query, most similar first (ties: lower index first).
struct Neighbours {
  int64_t k = 0;
  std::vector<int64_t> index;     // [queries × k] into the training rows
  std::vector<float> similarity;  // [queries × k], cosine
};

// Cosine similarity of a zero row with anything is 0.
Neighbours nearest_neighbours(const Tensor& train, const Tensor& queries, const KnnOptions& o);

// Each query's label by the weighted vote of its neighbours (ties: the lower class).
std::vector<int32_t> knn_vote(const Neighbours& nb, const std::vector<int32_t>& train_labels, int64_t classes,
                              double temperature);

// Fraction of test rows whose vote is their label.
double knn_accuracy(const Labeled& train, const Labeled& test, int64_t classes, const KnnOptions& o);

}  // namespace imx::eval
