#include "evaluation/features.h"

#include <algorithm>
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

namespace {

// Rank 0 gets the rows of every rank's [n_r, F] shard matrix stacked in rank order; the shards
// are padded to the largest for the exchange, then cut.
Tensor gather_rows(const Tensor& mine, const std::vector<int64_t>& rows, dist::Group& g) {
  const int64_t cols = mine.size(1), most = *std::max_element(rows.begin(), rows.end());
  Tensor padded = Tensor::zeros({most, cols});
  std::memcpy(padded.data<float>(), mine.data<float>(), mine.nbytes());
  Tensor all = Tensor::empty(g.is_root() ? Shape{most * g.size(), cols} : Shape{0, cols});
  g.host().gather(padded.raw(), all.raw(), padded.nbytes(), 0);
  if (!g.is_root()) return Tensor();
  int64_t total = 0;
  for (int64_t n : rows) total += n;
  Tensor out = Tensor::empty({total, cols});
  for (int r = 0, at = 0; r < g.size(); at += rows[r], ++r)
    std::memcpy(out.data<float>() + at * cols, all.data<float>() + r * most * cols, rows[r] * cols * sizeof(float));
  return out;
}

}  // namespace

Features extract_features(models::Encoder& encoder, const data::Dataset& d, BatchOptions o, dist::Group& g) {
  if (g.size() == 1) return extract_features(encoder, d, o);
  const int64_t n = static_cast<int64_t>(d.size()), ranks = g.size();
  check(n >= ranks, "extract_features", d.name + ": " + std::to_string(n) + " images for " + std::to_string(ranks) + " ranks");
  std::vector<int64_t> rows(ranks);
  for (int64_t r = 0; r < ranks; ++r) rows[r] = n * (r + 1) / ranks - n * r / ranks;
  const int64_t begin = n * g.rank() / ranks;
  if (!g.is_root()) o.progress_label.clear();
  const Features mine = extract_features(encoder, d.range(begin, begin + rows[g.rank()]), o);
  Features all{gather_rows(mine.conv, rows, g), gather_rows(mine.fc, rows, g), gather_rows(mine.y, rows, g), {}};
  if (g.is_root()) all.labels = d.labels;
  return all;
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
