// DIM's objectives as autograd ops over engine tensors: the mutual-information loss between
// local and global features (fused kernel of losses/mi), and the prior-matching terms.
#pragma once
#include "engine/tensor.h"
#include "losses/mi/mi.h"

namespace imx {

// The MI loss between local features [B, P, D] and global features [B, K, D] (or [B, D] for
// K = 1), minimized form (lower is more information). The forward pass computes the
// gradients too when they will be needed (one fused pass), and the backward only scales them.
Tensor mi_loss(const Tensor& local, const Tensor& global, mi::Estimator estimator,
               mi::Impl impl = mi::Impl::fused);

// Prior matching (dim-reference.md §3), with D the discriminator's logits:
// discriminator loss = mean softplus(-D(prior)) + mean softplus(D(encoded));
// encoder term      = mean softplus(-D(encoded)).
Tensor prior_discriminator_loss(const Tensor& d_prior, const Tensor& d_encoded);
Tensor prior_encoder_loss(const Tensor& d_encoded);

}  // namespace imx
