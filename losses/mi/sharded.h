// The MI loss of a data-parallel batch whose images are spread over several processes ("ranks"),
// computed with the negatives of the whole batch while each rank holds only its own features.
//
// The global batch is `ranks` shards of b images; rank r owns images [r*b, (r+1)*b): its local
// features L_r (b x P x D) and global features G_r (b x K x D). The result is exactly the loss of
// one process holding the whole batch (mi.h, B = ranks*b), and each rank gets the gradients of
// that loss with respect to its own L_r and G_r.
//
// How (after the multi-level tiling of Inf-CL, Cheng et al. 2024, for CLIP losses): the score
// matrix is computed by columns, each rank those of its own b*P local vectors, while the blocks
// of global features (b*K x D each) travel around a ring of ranks, one block per step. Passing
// the global rather than the local features moves P times fewer bytes (P = 49-64 in DIM). The
// estimators' per-row statistics accumulate tile by tile (estimator_run.h, the same code as the
// fused kernel) and are merged across ranks once (a max and a sum per row: scalars, not
// features); the loss sums and the gradient weights are summed across ranks. In the gradient
// pass each block carries a dG accumulator to which every rank adds its columns' share, and
// which arrives back at the block's owner after a full turn; dL of the own columns accumulates
// locally. So a rank stores its own features, one travelling block and its accumulator, and
// score tiles: O(b) features, never those of the whole batch (plus O(N*b*K) row statistics).
#pragma once
#include <cstddef>
#include <cstdint>

#include "losses/mi/mi.h"

namespace imx::mi {

// What the ring algorithm needs from the transport (distributed/ implements it over MPI). Every
// rank must make the same calls in the same order.
class ShardRing {
 public:
  virtual ~ShardRing() = default;
  virtual int64_t ranks() const = 0;
  virtual int64_t rank() const = 0;
  // Sends `bytes` bytes of `buffer` to rank + 1 and replaces them with what rank - 1 sent.
  virtual void pass(void* buffer, std::size_t bytes) = 0;
  // x[i] := the sum (max) of x[i] over every rank.
  virtual void sum(double* x, int n) = 0;
  virtual void max(double* x, int n) = 0;
};

// pb describes this rank's shard (pb.B = b images); the global batch is ring.ranks() * b. Returns
// the whole batch's loss (the same on every rank) and overwrites the requested gradients of this
// rank's features (b x P x D, b x K x D) with those of the whole batch's loss, times
// opt.grad_scale. opt.score_cache_bytes bounds the score tiles kept between the two passes of
// infoNCE/DV; opt.threads threads each product.
template <class T>
T sharded(const Problem& pb, Estimator e, const T* local, const T* global, ShardRing& ring,
          Gradients<T> grads = {}, const Options& opt = {});

// Scratch bytes of sharded() on one rank (what Options::peak_extra_bytes reports), beyond the
// copy of the travelling block a transport may make.
std::size_t sharded_bytes(const Problem& pb, int64_t ranks, Estimator e, std::size_t elem_bytes = 4,
                          bool with_grads = true, const Options& opt = {});

}  // namespace imx::mi
