// The frozen representations of a split: the encoder's conv (flattened), fc and Y features, or
// the raw pixels, as [N, F] float32 CPU matrices with the images' labels.
#pragma once
#include <cstdint>
#include <vector>

#include "distributed/group.h"
#include "evaluation/batches.h"
#include "models/encoder.h"

namespace imx::eval {

// A feature matrix and its labels: what every probe reads.
struct Labeled {
  Tensor x;                     // [N, F], float32, CPU
  std::vector<int32_t> labels;  // N
};

struct Features {
  Tensor conv, fc, y;           // [N, F] each, float32, CPU
  std::vector<int32_t> labels;  // N
  Labeled of(const Tensor& x) const { return {x, labels}; }
};

// Runs `encoder` over d in eval mode under NoGrad (its train/eval mode is restored after).
// o.resize_to is set from the encoder when left 0.
Features extract_features(models::Encoder& encoder, const data::Dataset& d, BatchOptions o);

// Data-parallel extraction: rank r of g runs `encoder` over its contiguous shard of d (the
// shards differ by at most one image) and rank 0 receives every rank's rows, in data order: the
// same matrices as extract_features on one process. Ranks other than 0 get empty Features.
Features extract_features(models::Encoder& encoder, const data::Dataset& d, BatchOptions o, dist::Group& g);

// The images themselves, [N, C·S·S] in [-1, 1] (the encoder's input scaling).
Labeled pixel_features(const data::Dataset& d, const BatchOptions& o);

}  // namespace imx::eval
