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

  // One pass computes the loss and the gradients that will be needed, and only those (a
  // frozen encoder's local features, say, need no dL: the kernels then skip its product).
  const bool record_on = grad_enabled();
  const bool want_gl = record_on && local.requires_grad(), want_gg = record_on && global.requires_grad();
  Tensor gl, gg, loss;
  if (want_gl) gl = Tensor::empty(local.shape(), local.dtype(), local.device());
  if (want_gg) gg = Tensor::empty(g3.shape(), local.dtype(), local.device());
  if (local.device() == Device::CUDA) {
    loss = Tensor::empty({}, local.dtype(), local.device());
    detail::mi_cuda(pb, estimator, impl, local, g3, loss, want_gl ? &gl : nullptr, want_gg ? &gg : nullptr);
  } else {
    const double value = dispatch(local.dtype(), [&]<class T>() {
      return run_mi<T>(pb, estimator, impl, local, g3, want_gl ? &gl : nullptr, want_gg ? &gg : nullptr);
    });
    loss = Tensor::full({}, value, local.dtype());
  }
  if (!want_gl && !want_gg) return loss;
  if (want_gg) gg = reshape(gg, global.shape());
  return record(loss, "mi_loss", {local, global}, [gl, gg](const Tensor& up) {
    // The upstream gradient stays where it is: a device-side multiply by the 0-d tensor, no
    // up.item() on CUDA (which would synchronize the host with the stream every step). On the
    // CPU a loss backpropagated alone (upstream 1) hands its gradients over without a copy.
    if (up.device() == Device::CPU && up.item() == 1.0) return std::vector<Tensor>{gl, gg};
    return std::vector<Tensor>{gl.defined() ? mul(gl, up) : Tensor(), gg.defined() ? mul(gg, up) : Tensor()};
  });
}

Tensor prior_discriminator_loss(const Tensor& d_prior, const Tensor& d_encoded) {
  return add(mean(softplus(neg(d_prior))), mean(softplus(d_encoded)));
}

Tensor prior_encoder_loss(const Tensor& d_encoded) { return mean(softplus(neg(d_encoded))); }

}  // namespace imx
