// Batch-norm running statistics estimated on data with every weight untouched: the
// "random init + estimated BN statistics" baseline. A freshly initialized network's running
// statistics (mean 0, variance 1) do not describe its activations, so an eval-mode forward
// normalizes with the wrong scale; re-estimating them separates "the weights learned something"
// from "the normalization is right".
#pragma once
#include <cstdint>

#include "evaluation/batches.h"
#include "models/encoder.h"

namespace imx::eval {

// Runs `encoder` in train mode under NoGrad over d in batches of o.batch (last partial batch
// dropped, as in training) with each batch-norm layer's momentum set to 1/(k+1) at batch k, so
// its running mean and variance end as the plain averages, over all batches, of the batch
// means and unbiased batch variances (PyTorch's momentum=None). Batch statistics normalize the
// forward itself, as they do in training. Momenta are restored and the encoder left in eval
// mode. Returns the number of batches used; throws when d holds less than one batch.
int64_t estimate_batch_norm_statistics(models::Encoder& encoder, const data::Dataset& d, BatchOptions o);

}  // namespace imx::eval
