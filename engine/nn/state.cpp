#include "engine/nn/state.h"

namespace imx::nn {

void save_state(const Module& m, const std::string& prefix, TensorFile& file) {
  for (auto& [name, t] : m.named_parameters()) file.tensors.emplace_back(prefix + name, t);
  for (auto& [name, t] : m.named_buffers()) file.tensors.emplace_back(prefix + name, t);
  for (auto& [name, gen] : m.named_generators())
    file.metadata["rng." + prefix + name] = std::to_string(gen->seed()) + ":" + std::to_string(gen->offset());
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
  for (auto& [name, gen] : m.named_generators()) {
    const auto it = file.metadata.find("rng." + prefix + name);
    check(it != file.metadata.end(), "load", path + " has no position for the random stream '" + prefix + name + "'");
    const std::string expected = std::to_string(gen->seed()) + ":";
    check(it->second.rfind(expected, 0) == 0, "load",
          path + ": random stream '" + prefix + name + "' has seed:offset " + it->second + ", expected seed " +
              std::to_string(gen->seed()));
    gen->set_offset(std::stoull(it->second.substr(expected.size())));
  }
}

}  // namespace imx::nn
