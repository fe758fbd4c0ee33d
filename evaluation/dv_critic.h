// A critic trained to maximize the Donsker–Varadhan bound
//   KL(P ‖ Q) ≥ E_P[T] − log E_Q[e^T]
// between samples of a joint distribution P and of the product of its marginals Q, so the
// bound is a lower bound on their mutual information (or total correlation). The bound is
// reported on held-out samples: a critic that only memorized its training pairs scores low there.
#pragma once
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "evaluation/mlp.h"

namespace imx::eval {

// E_P[T] − log E_Q[e^T] of critic values t_joint [n, 1] and t_marginal [m, 1], computed stably
// (the maximum is factored out of the log-mean-exp); differentiable.
Tensor dv_bound(const Tensor& t_joint, const Tensor& t_marginal);

// One minibatch: rows of P and rows of Q, [n, in] each, on the CPU.
struct DvBatch {
  Tensor joint, marginal;
};
using DvSampler = std::function<DvBatch(std::mt19937_64& rng, int64_t n)>;

struct DvOptions {
  int64_t steps = 2000;
  int64_t batch = 256;
  double lr = 1e-4;                 // Adam
  std::vector<int64_t> hidden;      // the critic's hidden widths
  uint64_t seed = 1;                // initialization and sampling
  Device device = Device::CPU;
  std::string progress_label;       // empty = no progress lines
  double progress_seconds = 5.0;
};

// Trains `critic` (on o.device) by Adam ascent on the bound of batches drawn from `sample`;
// returns the mean training bound over the last tenth of the steps.
double train_dv_critic(ScalarMlp& critic, const DvSampler& sample, const DvOptions& o);

// The bound of a trained critic over all of `joint` and `marginal` (held-out rows), in nats.
double dv_bound_of(ScalarMlp& critic, const Tensor& joint, const Tensor& marginal, Device device);

}  // namespace imx::eval
