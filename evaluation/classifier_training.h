// The training loop the MLP and linear probes share: Adam on the cross entropy of shuffled
// minibatches (last partial batch dropped, as the reference does), a multi-step learning-rate
// schedule, then test accuracy in eval mode.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "evaluation/features.h"

namespace imx::eval {

struct TrainingOptions {
  int64_t epochs = 1;
  double lr = 1e-4;
  int64_t batch = 64;
  std::vector<int64_t> milestones;  // 0-based epochs at which lr is multiplied by gamma
  double gamma = 0.1;
  uint64_t seed = 1;                // shuffling order (the caller seeds the initialization)
  Device device = Device::CPU;
  std::string progress_label;       // empty = no progress lines
  double progress_seconds = 5.0;
};

// Maps a batch of features [n, F] (on the model's device) to logits [n, classes].
using Classifier = std::function<Tensor(const Tensor&)>;

// Trains `model` (already on o.device) through `forward` on `train`; returns its accuracy on
// `test` in [0, 1]. Labels must lie in [0, classes).
double train_and_test(nn::Module& model, const Classifier& forward, const Labeled& train, const Labeled& test,
                      const TrainingOptions& o);

// Fraction of rows whose largest logit is at their label (the first largest on ties).
double accuracy(const std::vector<double>& logits, int64_t classes, const std::vector<int32_t>& labels);

}  // namespace imx::eval
