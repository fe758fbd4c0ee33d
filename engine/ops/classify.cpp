// Log-softmax and cross-entropy for classifiers (probes, coordinate prediction).
#include "engine/ops/common.h"

namespace imx {

using namespace ops;

Tensor log_softmax(const Tensor& x) {
  check_rank("log_softmax", x, {2}, "input");
  Tensor y = empty_like(x);
  backend_of(x).log_softmax_forward(x, y);
  return record(y, "log_softmax", {x}, [yd = y.detach()](const Tensor& g) {
    Tensor gx = empty_like(g);
    backend_of(g).log_softmax_backward(yd, g, gx);
    return std::vector<Tensor>{gx};
  });
}

namespace {

// -mean_i logp[i, label_i]. Neither direction reads a value on the host: the loss is written
// into a 0-d tensor where logp lives and the upstream gradient is handed to the backend as a
// 0-d tensor (g.item() here was a device-to-host copy, a stream synchronization, every step).
Tensor nll(const Tensor& logp, const std::vector<int32_t>& labels) {
  Tensor loss = Tensor::empty({}, logp.dtype(), logp.device());
  backend_of(logp).nll_forward(logp, labels, loss);
  return record(loss, "nll", {logp}, [labels, shape = logp.shape()](const Tensor& g) {
    Tensor gl = Tensor::empty(shape, g.dtype(), g.device());
    backend_of(g).nll_backward(labels, g, gl);
    return std::vector<Tensor>{gl};
  });
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& labels) {
  check_rank("cross_entropy", logits, {2}, "logits");
  check(static_cast<int64_t>(labels.size()) == logits.size(0), "cross_entropy",
        std::to_string(labels.size()) + " labels for logits " + shape_str(logits.shape()));
  check(!labels.empty(), "cross_entropy", "empty batch");
  for (size_t i = 0; i < labels.size(); ++i)
    check(labels[i] >= 0 && labels[i] < logits.size(1), "cross_entropy",
          "label " + std::to_string(labels[i]) + " at row " + std::to_string(i) +
              " outside [0, " + std::to_string(logits.size(1)) + ")");
  return nll(log_softmax(logits), labels);
}

}  // namespace imx
