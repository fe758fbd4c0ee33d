// A split walked in order as float batches, scaled as the training pipeline scales them
// ([-1, 1], STL-10's 96×96 resized to the encoder's 64), for feature extraction and the
// batch-norm statistics pass.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "imx/data/dataset.hpp"

namespace imx::eval {

struct BatchOptions {
  int64_t batch = 256;
  int64_t resize_to = 0;       // square output size; 0 = as stored
  bool drop_last = false;      // drop a last partial batch
  Device device = Device::CPU;
  std::string progress_label;  // empty = no progress lines
  double progress_seconds = 5.0;
};

// The resize an encoder taking size×size images needs for `d`: 0 when none, 64 for 96×96
// images (STL-10, as dim-train resizes them); throws naming the data set for any other mismatch.
int64_t resize_for(const data::Dataset& d, int64_t size);

// Calls fn(x [n, C, S, S] on o.device, labels of the n images) for each batch, in data order.
void for_each_batch(const data::Dataset& d, const BatchOptions& o,
                    const std::function<void(const Tensor& x, const std::vector<int32_t>& labels)>& fn);

}  // namespace imx::eval
