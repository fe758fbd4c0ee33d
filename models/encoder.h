// The DIM encoders (dim-reference.md §2): a conv stack whose chosen layer is the local feature
// map C(x) (M×M vectors), then fully connected layers down to the global vector Y (64-d).
// The probes read the "conv", "fc" and "y" features.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/blocks.h"

namespace imx::models {

struct EncoderOutput {
  Tensor local;  // [N, C, M, M]: the local feature map scored against Y
  Tensor conv;   // [N, C', H', W']: the last conv layer (the "conv" probe input)
  Tensor fc;     // [N, F]: the last hidden fully connected layer (the "fc" probe input)
  Tensor y;      // [N, 64]: the global representation
};

struct EncoderSpec {
  std::string name;
  int64_t channels, size;       // input images: channels × size × size
  std::vector<ConvSpec> convs;
  int64_t local_layer;          // index into convs of the local feature map
  std::vector<int64_t> fcs;     // hidden fully connected widths (each: BN, ReLU)
  int64_t y_dim = 64;
};

// "mnist28" (28×28×1), "dcgan32" (32×32×3, CIFAR) and "alexnet64" (64×64×3, STL-10 and Tiny
// ImageNet), with the given input channels (0 = the architecture's usual channel count).
EncoderSpec encoder_spec(const std::string& name, int64_t channels = 0);
// The architecture for an input size: 28 -> mnist28, 32 -> dcgan32, 64 -> alexnet64.
std::string encoder_for_size(int64_t size);

class Encoder : public nn::Module {
 public:
  Encoder(const EncoderSpec& spec, Generator& gen);
  EncoderOutput forward(const Tensor& x);
  const EncoderSpec& spec() const { return spec_; }
  // Shapes of each output for one image (computed from the spec).
  int64_t local_channels() const { return local_channels_; }
  int64_t local_size() const { return local_size_; }
  int64_t conv_features() const { return conv_features_; }
  int64_t fc_features() const { return fc_features_; }

 private:
  EncoderSpec spec_;
  std::vector<std::shared_ptr<ConvBlock>> convs_;
  std::vector<std::shared_ptr<LinearBlock>> fcs_;
  std::shared_ptr<nn::Linear> y_;
  int64_t local_channels_ = 0, local_size_ = 0, conv_features_ = 0, fc_features_ = 0;
};

}  // namespace imx::models
