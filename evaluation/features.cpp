#include "evaluation/features.h"

#include <cstring>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace imx::eval {

namespace {

// Copies batch rows [n, F] into rows [at, at + n) of a preallocated [N, F] matrix.
void put_rows(Tensor& into, int64_t at, const Tensor& rows) {
  const Tensor host = rows.to(Device::CPU);
  std::memcpy(into.data<float>() + at * into.size(1), host.data<float>(), host.nbytes());
}

}  // namespace

Features extract_features(models::Encoder& encoder, const data::Dataset& d, BatchOptions o) {
  check(d.size() > 0, "extract_features", d.name + ": no images");
  if (o.resize_to == 0) o.resize_to = resize_for(d, encoder.spec().size);
  o.drop_last = false;
  const bool was_training = encoder.training();
  encoder.eval();
  NoGrad no_grad;
  // Filled in place: concatenating batches would hold the conv features twice (1.5 GB each
  // for Fashion-MNIST's training split).
  const auto n = static_cast<int64_t>(d.size());
  Features f{Tensor::empty({n, encoder.conv_features()}), Tensor::empty({n, encoder.fc_features()}),
             Tensor::empty({n, encoder.spec().y_dim}), {}};
  for_each_batch(d, o, [&](const Tensor& x, const std::vector<int32_t>& labels) {
    const models::EncoderOutput out = encoder.forward(x);
    const auto at = static_cast<int64_t>(f.labels.size());
    put_rows(f.conv, at, flatten(out.conv));
    put_rows(f.fc, at, out.fc);
    put_rows(f.y, at, out.y);
    f.labels.insert(f.labels.end(), labels.begin(), labels.end());
  });
  encoder.train(was_training);
  return f;
}

Labeled pixel_features(const data::Dataset& d, const BatchOptions& o) {
  BatchOptions cpu = o;
  cpu.device = Device::CPU;
  std::vector<Tensor> parts;
  Labeled out;
  for_each_batch(d, cpu, [&](const Tensor& x, const std::vector<int32_t>& labels) {
    parts.push_back(flatten(x));
    out.labels.insert(out.labels.end(), labels.begin(), labels.end());
  });
  check(!parts.empty(), "pixel_features", d.name + ": no images");
  out.x = concat(parts, 0);
  return out;
}

}  // namespace imx::eval
