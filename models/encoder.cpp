#include "models/encoder.h"

namespace imx::models {

EncoderSpec encoder_spec(const std::string& name, int64_t channels) {
  auto conv = [](int64_t out, int64_t k, int64_t s, int64_t p, int64_t pool = 0) {
    ConvSpec c{out, k, s, p};
    if (pool) c.pool = pool, c.pool_stride = 2;
    return c;
  };
  if (name == "mnist28")
    return {name, channels ? channels : 1, 28, {conv(64, 5, 2, 2), conv(128, 5, 2, 2)}, 1, {1024}};
  if (name == "dcgan32")
    return {name, channels ? channels : 3, 32,
            {conv(64, 4, 2, 1), conv(128, 4, 2, 1), conv(256, 4, 2, 1)}, 1, {1024}};
  if (name == "alexnet64")
    return {name, channels ? channels : 3, 64,
            {conv(96, 3, 1, 1, 3), conv(192, 3, 1, 1, 3), conv(384, 3, 1, 1), conv(384, 3, 1, 1),
             conv(192, 3, 1, 1, 3)},
            2, {4096, 4096}};
  throw Error("encoder: unknown architecture '" + name + "' (valid: mnist28, dcgan32, alexnet64)");
}

std::string encoder_for_size(int64_t size) {
  if (size == 28) return "mnist28";
  if (size == 32) return "dcgan32";
  if (size == 64) return "alexnet64";
  throw Error("encoder: no architecture for " + std::to_string(size) + "x" + std::to_string(size) +
              " images (28, 32 and 64 are supported; resize or pad the data)");
}

Encoder::Encoder(const EncoderSpec& spec, Generator& gen) : spec_(spec) {
  int64_t channels = spec.channels, size = spec.size;
  for (size_t i = 0; i < spec.convs.size(); ++i) {
    const ConvSpec& c = spec.convs[i];
    convs_.push_back(add_module("conv" + std::to_string(i),
                                std::make_shared<ConvBlock>(channels, c, gen)));
    channels = c.out;
    size = (size + 2 * c.pad - c.kernel) / c.stride + 1;
    if (c.pool) size = (size - c.pool) / c.pool_stride + 1;
    if (static_cast<int64_t>(i) == spec.local_layer) local_channels_ = channels, local_size_ = size;
  }
  conv_features_ = channels * size * size;
  int64_t width = conv_features_;
  for (size_t i = 0; i < spec.fcs.size(); ++i) {
    fcs_.push_back(add_module("fc" + std::to_string(i),
                              std::make_shared<LinearBlock>(width, spec.fcs[i], true, true, gen)));
    width = spec.fcs[i];
  }
  fc_features_ = width;
  y_ = add_module("y", std::make_shared<nn::Linear>(width, spec.y_dim, true, gen));
}

EncoderOutput Encoder::forward(const Tensor& x) {
  check(x.dim() == 4 && x.size(1) == spec_.channels && x.size(2) == spec_.size &&
            x.size(3) == spec_.size,
        "encoder " + spec_.name,
        "expects images [N, " + std::to_string(spec_.channels) + ", " +
            std::to_string(spec_.size) + ", " + std::to_string(spec_.size) + "], got " +
            shape_str(x.shape()));
  EncoderOutput out;
  Tensor h = x;
  for (size_t i = 0; i < convs_.size(); ++i) {
    h = convs_[i]->forward(h);
    if (static_cast<int64_t>(i) == spec_.local_layer) out.local = h;
  }
  out.conv = h;
  h = flatten(h);
  for (auto& fc : fcs_) h = fc->forward(h);
  out.fc = h;
  out.y = y_->forward(h);
  return out;
}

}  // namespace imx::models
