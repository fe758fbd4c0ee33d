#include "distributed/global_mi.h"

#include "engine/autograd.h"
#include "engine/ops.h"
#include "losses/dim/dim_losses.h"

namespace imx::dist {

std::string_view negatives_name(Negatives n) {
  switch (n) {
    case Negatives::local: return "local";
    case Negatives::ring: return "ring";
    case Negatives::gather: return "gather";
  }
  return "?";
}

Negatives parse_negatives(std::string_view name) {
  for (Negatives n : {Negatives::ring, Negatives::gather, Negatives::local})
    if (negatives_name(n) == name) return n;
  throw Error("unknown negatives '" + std::string(name) + "'; expected ring, gather or local");
}

Tensor scale_gradient(const Tensor& x, double factor) {
  return record(x.detach(), "scale_gradient", {x}, [factor](const Tensor& up) {
    return std::vector<Tensor>{scale(up, factor)};
  });
}

Tensor gather_batch(const Tensor& x, Group& g) {
  if (g.size() == 1) return x;
  const int64_t b = x.size(0), first = g.rank() * b;
  return record(all_gather(x, g), "gather_batch", {x}, [b, first](const Tensor& up) {
    return std::vector<Tensor>{slice(up, 0, first, first + b)};
  });
}

namespace {

Tensor ring_mi_loss(const Tensor& local, const Tensor& global, mi::Estimator e, Group& g) {
  check(local.device() == Device::CPU, "global_mi_loss",
        "the ring runs on CPU tensors; use the gather negatives for " + local.describe());
  check(local.dim() == 3, "global_mi_loss", "local features must be [b, P, D], got " + shape_str(local.shape()));
  const Tensor g3 = global.dim() == 2 ? reshape(global, {global.size(0), 1, global.size(1)}) : global;
  check(g3.dim() == 3 && g3.size(0) == local.size(0) && g3.size(2) == local.size(2) &&
            local.dtype() == global.dtype(),
        "global_mi_loss", "global features " + global.describe() + " do not match local features " + local.describe());
  const mi::Problem shard{local.size(0), local.size(1), local.size(2), g3.size(1)};
  const bool want_gl = grad_enabled() && local.requires_grad(), want_gg = grad_enabled() && global.requires_grad();
  Tensor gl, gg;
  if (want_gl) gl = Tensor::empty(local.shape(), local.dtype());
  if (want_gg) gg = Tensor::empty(g3.shape(), local.dtype());
  CommunicatorRing ring(g.host());
  const double value = dispatch(local.dtype(), [&]<class T>() {
    mi::Gradients<T> grads{want_gl ? gl.data<T>() : nullptr, want_gg ? gg.data<T>() : nullptr};
    return double(mi::sharded<T>(shard, e, local.data<T>(), g3.data<T>(), ring, grads));
  });
  Tensor loss = Tensor::full({}, value, local.dtype());
  if (!want_gl && !want_gg) return loss;
  if (want_gg) gg = reshape(gg, global.shape());
  const double ranks = g.size();
  return record(loss, "global_mi_loss", {local, global}, [gl, gg, ranks](const Tensor& up) {
    const Tensor k = scale(up, ranks);
    return std::vector<Tensor>{gl.defined() ? mul(gl, k) : Tensor(), gg.defined() ? mul(gg, k) : Tensor()};
  });
}

}  // namespace

Tensor global_mi_loss(const Tensor& local, const Tensor& global, mi::Estimator e, Group& g, Negatives how) {
  if (how == Negatives::local || g.size() == 1) return mi_loss(local, global, e);
  if (how == Negatives::ring) return ring_mi_loss(local, global, e, g);
  return scale_gradient(mi_loss(gather_batch(local, g), gather_batch(global, g), e), g.size());
}

}  // namespace imx::dist
