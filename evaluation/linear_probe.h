// Logistic regression on frozen features: one linear layer on the features standardized with
// the training split's statistics (standardize.h), trained by the same loop as the MLP probe.
// It asks whether the classes are linearly separable in a representation, which the MLP probe
// (with its hidden layer) does not.
#pragma once
#include "evaluation/classifier_training.h"

namespace imx::eval {

// Test accuracy of a fresh linear classifier initialized from o.seed.
double linear_probe_accuracy(const Labeled& train, const Labeled& test, int64_t classes, const TrainingOptions& o);

}  // namespace imx::eval
