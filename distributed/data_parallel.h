// Data parallelism over a Group: every rank holds the same model and trains on its own shard
// of each global batch. The ranks start equal (broadcast from rank 0) and stay equal because
// each applies the same averaged gradient; the batch-norm running statistics, which each rank
// updates from its own shard (per-rank batch norm, as the reference does), are averaged after
// every step, so that the whole state, and a checkpoint of it, is the same on every rank.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "distributed/group.h"
#include "engine/nn/module.h"

namespace imx::dist {

// Parameters and buffers of `m` on every rank := those of rank `root`.
void broadcast_state(nn::Module& m, Group& g, int root = 0);

// Each parameter's .grad := the mean over ranks of its .grad (a missing one counts as zeros).
// Gradients travel in buckets of about `bucket_bytes` (one flat buffer per bucket, one
// all-reduce each), so that a model of many small tensors makes few calls.
inline constexpr std::size_t kDefaultBucketBytes = std::size_t(16) << 20;
void average_gradients(const std::vector<Tensor>& params, Group& g, std::size_t bucket_bytes = kDefaultBucketBytes);

// Each buffer (batch-norm running statistics) := its mean over ranks.
void average_buffers(nn::Module& m, Group& g);

// An order-sensitive 64-bit digest of every parameter's and buffer's bytes; equal on two ranks
// exactly when (up to hash collisions) their states are bit-identical.
uint64_t state_digest(const nn::Module& m);
// True when every rank's state_digest(m) is rank 0's.
bool same_on_every_rank(const nn::Module& m, Group& g);

}  // namespace imx::dist
