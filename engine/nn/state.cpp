#include "engine/nn/state.h"

namespace imx::nn {

void save_state(const Module& m, const std::string& prefix, TensorFile& file) {
  for (auto& [name, t] : m.named_parameters()) file.tensors.emplace_back(prefix + name, t);
  for (auto& [name, t] : m.named_buffers()) file.tensors.emplace_back(prefix + name, t);
}

void load_tensor(const TensorFile& file, const std::string& path, const std::string& name, Tensor t) {
  const Tensor* src = file.find(name);
  check(src != nullptr, "load", path + " has no tensor '" + name + "' (saved with other model settings?)");
  check(src->shape() == t.shape(), "load",
        path + ": tensor '" + name + "' is " + shape_str(src->shape()) + ", the model expects " +
            shape_str(t.shape()));
  t.copy_from(*src);
}

void load_state(Module& m, const TensorFile& file, const std::string& prefix, const std::string& path) {
  for (auto& [name, t] : m.named_parameters()) load_tensor(file, path, prefix + name, t);
  for (auto& [name, t] : m.named_buffers()) load_tensor(file, path, prefix + name, t);
}

}  // namespace imx::nn
