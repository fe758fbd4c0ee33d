// The paper's probe (dim-reference.md §5): linear 200 → dropout 0.1 → BN → ReLU → linear
// n_classes (models::Probe), trained on frozen features; Adam, lr 1e-4, batch 64, lr ×0.1 at
// epochs 50 and 100 in the reference.
#pragma once
#include "evaluation/classifier_training.h"

namespace imx::eval {

// Test accuracy of a fresh MLP probe initialized from o.seed (its dropout stream from o.seed + 1).
double mlp_probe_accuracy(const Labeled& train, const Labeled& test, int64_t classes, const TrainingOptions& o);

}  // namespace imx::eval
