// The scoring MLP of the concat-and-convolve critics (paper figure 3): a pair's input is the
// concatenation [local side; global side], scored by 1x1 layers U -> ReLU -> U -> ReLU -> 1.
// The first layer is linear, so W [a; c] = W_a a + W_c c: each side is projected once (by the
// critic that owns this scorer) and a pair only pays for the sum, the second layer and the
// output: about 2U² + 3U FLOPs per pair instead of 2U(U + |a| + |c|) for the concatenation.
#pragma once
#include <memory>

#include "engine/nn/module.h"

namespace imx::models {

class PairScorer : public nn::Module {
 public:
  PairScorer(int64_t units, Generator& gen);
  // a: [Na, U] projected local sides, c: [Nc, U] projected global sides (with the first
  // layer's bias). Returns the scores of every pair, [Nc, Na]: row = global side, column =
  // local side, the layout of losses/mi's score matrices.
  Tensor forward(const Tensor& a, const Tensor& c);
  int64_t units() const { return units_; }
  // FLOPs of forward for one pair (the backward costs about twice as much).
  double flops_per_pair() const { return 2.0 * units_ * units_ + 5.0 * units_; }

 private:
  int64_t units_;
  std::shared_ptr<nn::Linear> hidden_, out_;
};

}  // namespace imx::models
