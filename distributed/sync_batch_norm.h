// Batch norm whose training statistics are those of the whole global batch (dim-train
// --sync-bn), instead of each rank's own (the default, as the reference's multi-GPU runs).
#pragma once
#include "distributed/group.h"
#include "engine/nn/module.h"

namespace imx::dist {

// The sum of x over every rank (each rank's x of the same shape), differentiable: its backward
// sums the upstream gradients over the ranks as well (each rank's loss depends on every x).
Tensor sum_over_ranks(const Tensor& x, Group& g);

// Every nn::BatchNorm inside m (m included) normalizes with the statistics of all ranks'
// batches. Returns how many it changed.
int synchronize_batch_norm(nn::Module& m, Group& g);

}  // namespace imx::dist
