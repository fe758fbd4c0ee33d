// The untrained baselines: the checkpoint's architecture with the weights it started from.
// dim-train seeds initialization from the config's seed, so building a model from the
// checkpoint's config gives exactly the trained run's initial weights, never trained.
#pragma once
#include <memory>

#include "models/deep_infomax.h"

namespace imx::eval {

// A fresh model of trained.config() (same architecture, same seed), on `device`, in eval mode.
std::unique_ptr<models::DeepInfoMax> untrained_copy(const models::DeepInfoMax& trained, Device device);

}  // namespace imx::eval
