// A plain ReLU MLP with a scalar output: the critics of the dependency measures
// (NDM: in → 1000 → 200 → 1; MINE: [x; y] → hidden... → 1). Layers initialized as PyTorch's.
#pragma once
#include <memory>
#include <vector>

#include "engine/nn/module.h"

namespace imx::eval {

class ScalarMlp : public nn::Module {
 public:
  ScalarMlp(int64_t in, const std::vector<int64_t>& hidden, Generator& gen);
  Tensor forward(const Tensor& x);  // [N, in] -> [N, 1]

 private:
  std::vector<std::shared_ptr<nn::Linear>> layers_;
};

}  // namespace imx::eval
