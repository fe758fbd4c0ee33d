#include "models/blocks.h"

namespace imx::models {

ConvBlock::ConvBlock(int64_t in, const ConvSpec& spec, Generator& gen) : spec_(spec) {
  conv_ = add_module("conv", std::make_shared<nn::Conv2d>(in, spec.out, spec.kernel, spec.stride,
                                                          spec.pad, !spec.batch_norm, gen));
  if (spec.batch_norm) bn_ = add_module("bn", std::make_shared<nn::BatchNorm>(spec.out));
}

Tensor ConvBlock::forward(const Tensor& x) {
  Tensor h = conv_->forward(x);
  if (bn_) h = bn_->forward(h, spec_.relu);
  else if (spec_.relu) h = relu(h);
  if (spec_.pool) h = max_pool2d(h, spec_.pool, spec_.pool_stride);
  return h;
}

LinearBlock::LinearBlock(int64_t in, int64_t out, bool batch_norm, bool relu_on, Generator& gen)
    : relu_(relu_on) {
  linear_ = add_module("linear", std::make_shared<nn::Linear>(in, out, !batch_norm, gen));
  if (batch_norm) bn_ = add_module("bn", std::make_shared<nn::BatchNorm>(out));
}

Tensor LinearBlock::forward(const Tensor& x) {
  const Tensor h = linear_->forward(x);
  if (bn_) return bn_->forward(h, relu_);
  return relu_ ? relu(h) : h;
}

Tensor local_rows(const Tensor& map) {
  check(map.dim() == 4, "local_rows", "expects a map [N, C, H, W], got " + shape_str(map.shape()));
  return reshape(permute(map, {0, 2, 3, 1}), {map.size(0) * map.size(2) * map.size(3), map.size(1)});
}

MapReducer::MapReducer(int64_t local_channels, int64_t map_size, Generator& gen) {
  conv0_ = add_module("conv0", std::make_shared<ConvBlock>(local_channels, ConvSpec{64, 3, 1, 1}, gen));
  conv1_ = add_module("conv1", std::make_shared<ConvBlock>(64, ConvSpec{32, 3, 1, 1}, gen));
  features_ = 32 * map_size * map_size;
}

Tensor MapReducer::forward(const Tensor& local_map) {
  return flatten(conv1_->forward(conv0_->forward(local_map)));
}

}  // namespace imx::models
