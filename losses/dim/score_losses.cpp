#include "losses/dim/score_losses.h"

#include <string>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "losses/dim/mi_cuda_bridge.h"

namespace imx {

Tensor mi_loss_from_scores(const Tensor& scores, int64_t B, int64_t K, mi::Estimator estimator) {
  const char* op = "mi_loss_from_scores";
  check(scores.defined(), op, "undefined input");
  check(B >= 1 && K >= 1, op, "B and K must be >= 1, got B=" + std::to_string(B) + " K=" + std::to_string(K));
  check(scores.dim() == 2 && scores.size(0) == B * K && scores.size(1) % B == 0 && scores.size(1) >= B, op,
        "scores must be [B*K, B*P] = [" + std::to_string(B * K) + ", " + std::to_string(B) + "*P] for B=" +
            std::to_string(B) + " K=" + std::to_string(K) + ", got " + shape_str(scores.shape()));
  const mi::Problem pb{B, scores.size(1) / B, 1, K};  // D: no features here
  try {
    pb.validate_for(estimator);
  } catch (const std::exception& e) {
    fail(op, e.what());
  }

  const bool want_grads = grad_enabled() && scores.requires_grad();
  Tensor ds, loss;
  if (scores.device() == Device::CUDA) {
    loss = Tensor::empty({}, scores.dtype(), scores.device());
    if (want_grads) ds = Tensor::empty(scores.shape(), scores.dtype(), scores.device());
    detail::mi_cuda_scores(pb, estimator, scores, loss, want_grads ? &ds : nullptr);
  } else {
    // from_scores works in place: dS overwrites a copy; without gradients it only reads.
    if (want_grads) ds = scores.clone();
    const Tensor& matrix = want_grads ? ds : scores;
    const double value = dispatch(scores.dtype(), [&]<class T>() {
      return static_cast<double>(mi::from_scores<T>(pb, estimator, matrix.data<T>(), want_grads));
    });
    loss = Tensor::full({}, value, scores.dtype());
  }
  if (!want_grads) return loss;
  // mul by the 0-d upstream gradient: no up.item(), so no host synchronization on CUDA.
  return record(loss, op, {scores}, [ds](const Tensor& up) { return std::vector<Tensor>{mul(ds, up)}; });
}

}  // namespace imx
