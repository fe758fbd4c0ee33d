#include "losses/dim/dim_losses.h"

#include "engine/autograd.h"
#include "engine/ops.h"
#include "losses/dim/mi_cuda_bridge.h"

namespace imx {

namespace {

// Runs the MI kernel on CPU tensors of one dtype.
template <class T>
double run_mi(const mi::Problem& pb, mi::Estimator e, mi::Impl impl, const Tensor& l,
              const Tensor& g, Tensor* gl, Tensor* gg) {
  mi::Gradients<T> grads;
  if (gl) grads.local = gl->data<T>();
  if (gg) grads.global = gg->data<T>();
  return static_cast<double>(mi::compute<T>(impl, pb, e, l.data<T>(), g.data<T>(), grads));
}

}  // namespace

Tensor mi_loss(const Tensor& local, const Tensor& global, mi::Estimator estimator, mi::Impl impl) {
  check(local.defined() && global.defined(), "mi_loss", "undefined input");
  check(local.dim() == 3, "mi_loss", "local features must be [B, P, D], got " + shape_str(local.shape()));
  const Tensor g3 = global.dim() == 2 ? reshape(global, {global.size(0), 1, global.size(1)}) : global;
  check(g3.dim() == 3 && g3.size(0) == local.size(0) && g3.size(2) == local.size(2), "mi_loss",
        "global features " + shape_str(global.shape()) + " do not match local features " +
            shape_str(local.shape()) + " (expected [B, D] or [B, K, D] with the same B and D)");
  check(local.dtype() == global.dtype() && local.device() == global.device(), "mi_loss",
        "mixed inputs: " + local.describe() + " and " + global.describe());
  const mi::Problem pb{local.size(0), local.size(1), local.size(2), g3.size(1)};
  try {
    pb.validate_for(estimator);
  } catch (const std::exception& e) {
    fail("mi_loss", e.what());
  }

  // One pass computes the loss and, when they will be needed, both gradients.
  const bool want_grads = grad_enabled() && (local.requires_grad() || global.requires_grad());
  Tensor gl, gg, loss;
  if (want_grads) {
    gl = Tensor::empty(local.shape(), local.dtype(), local.device());
    gg = Tensor::empty(g3.shape(), local.dtype(), local.device());
  }
  if (local.device() == Device::CUDA) {
    loss = Tensor::empty({}, local.dtype(), local.device());
    detail::mi_cuda(pb, estimator, impl, local, g3, loss, want_grads ? &gl : nullptr,
                    want_grads ? &gg : nullptr);
  } else {
    const double value = dispatch(local.dtype(), [&]<class T>() {
      return run_mi<T>(pb, estimator, impl, local, g3, want_grads ? &gl : nullptr,
                       want_grads ? &gg : nullptr);
    });
    loss = Tensor::full({}, value, local.dtype());
  }
  if (!want_grads) return loss;
  gg = reshape(gg, global.shape());
  return record(loss, "mi_loss", {local, global}, [gl, gg](const Tensor& up) {
    const double s = up.item();
    if (s == 1.0) return std::vector<Tensor>{gl, gg};  // a loss backpropagated alone: no copy
    return std::vector<Tensor>{scale(gl, s), scale(gg, s)};
  });
}

Tensor prior_discriminator_loss(const Tensor& d_prior, const Tensor& d_encoded) {
  return add(mean(softplus(neg(d_prior))), mean(softplus(d_encoded)));
}

Tensor prior_encoder_loss(const Tensor& d_encoded) { return mean(softplus(neg(d_encoded))); }

}  // namespace imx
