// DIM's MI loss with the negatives of the whole global batch, across the ranks of a Group.
//
// With plain data parallelism each rank would score its b images against each other only: b - 1
// negative images per positive instead of N*b - 1, and for infoNCE and DV a different loss. Here
// the loss is that of one process holding the whole batch of N*b images (rank r's shard being
// images [r*b, (r+1)*b)), on every rank, and each rank's backward gives its own features' share
// of the gradient, scaled by N: the data-parallel step averages gradients over the N ranks
// (data_parallel.h), and the shares of all ranks sum to the whole gradient.
#pragma once
#include <string>
#include <string_view>

#include "distributed/group.h"
#include "losses/mi/mi.h"
#include "losses/mi/sharded.h"

namespace imx::dist {

enum class Negatives {
  local,   // each rank's own batch only (plain data parallelism)
  ring,    // the whole batch; local-feature blocks travel around the ranks (mi::sharded): O(b)
           // features per rank. CPU tensors.
  gather,  // the whole batch; every rank gathers every rank's features and computes the whole
           // loss (O(N*b) per rank; the simple version, on any device)
};
std::string_view negatives_name(Negatives n);
Negatives parse_negatives(std::string_view name);  // throws Error listing the choices

// local [b, P, D], global [b, D] or [b, K, D], as mi_loss (losses/dim/dim_losses.h); the same b on
// every rank. Returns the 0-d loss of the whole batch.
Tensor global_mi_loss(const Tensor& local, const Tensor& global, mi::Estimator estimator, Group& g, Negatives how);

// mi::sharded's ring over a communicator's ranks (host memory).
class CommunicatorRing final : public mi::ShardRing {
 public:
  explicit CommunicatorRing(Communicator& c) : c_(c) {}
  int64_t ranks() const override { return c_.size(); }
  int64_t rank() const override { return c_.rank(); }
  void pass(void* buffer, std::size_t bytes) override { c_.ring_pass(buffer, bytes); }
  void sum(double* x, int n) override { c_.all_reduce(x, n, Reduce::sum); }
  void max(double* x, int n) override { c_.all_reduce(x, n, Reduce::max); }

 private:
  Communicator& c_;
};

// The identity whose backward multiplies the gradient by `factor`.
Tensor scale_gradient(const Tensor& x, double factor);
// all_gather along the batch axis, differentiable: its backward keeps this rank's rows (every
// rank computes the same function of the gathered tensor, so its gradient there is complete).
Tensor gather_batch(const Tensor& x, Group& g);

}  // namespace imx::dist
