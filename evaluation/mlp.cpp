#include "evaluation/mlp.h"

namespace imx::eval {

ScalarMlp::ScalarMlp(int64_t in, const std::vector<int64_t>& hidden, Generator& gen) {
  int64_t width = in;
  for (size_t i = 0; i <= hidden.size(); ++i) {
    const int64_t out = i < hidden.size() ? hidden[i] : 1;
    check(out > 0, "ScalarMlp", "hidden width " + std::to_string(out) + " must be > 0");
    layers_.push_back(add_module("linear" + std::to_string(i), std::make_shared<nn::Linear>(width, out, true, gen)));
    width = out;
  }
}

Tensor ScalarMlp::forward(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    if (i + 1 < layers_.size()) h = relu(h);
  }
  return h;
}

}  // namespace imx::eval
