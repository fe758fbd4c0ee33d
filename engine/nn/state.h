// A module's state (parameters and running statistics) in a TensorFile under a name prefix, so
// checkpoints of different programs name the same tensor the same way ("encoder.conv0.conv.weight").
#pragma once
#include <string>

#include "engine/nn/module.h"
#include "engine/safetensors.h"

namespace imx::nn {

// Appends every parameter and buffer of `m` as prefix + name (handles, not copies), and the
// position of each of its random streams as metadata "rng." + prefix + name.
void save_state(const Module& m, const std::string& prefix, TensorFile& file);

// Copies every parameter, buffer and stream position of `m` from prefix + name in `file`.
// Throws imx::Error naming `path` and the tensor when one is missing or has another shape.
void load_state(Module& m, const TensorFile& file, const std::string& prefix, const std::string& path);

// Copies one named tensor of `file` into t (same checks and messages as load_state).
void load_tensor(const TensorFile& file, const std::string& path, const std::string& name, Tensor t);

}  // namespace imx::nn
