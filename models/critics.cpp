#include "models/critics.h"

#include <algorithm>

#include "engine/backend.h"

namespace imx::models {

namespace {

// The shortcut starts near the identity: uniform ±0.01 plus 1 on the diagonal of the first
// min(in, out) channels, so the block begins as a slightly perturbed copy of its input.
Tensor near_identity(int64_t out, int64_t in, Generator& gen) {
  Tensor w = uniform({out, in}, -0.01, 0.01, gen);
  float* p = w.data<float>();
  for (int64_t i = 0; i < std::min(in, out); ++i) p[i * in + i] += 1.0f;
  return w;
}

}  // namespace

DotEncoderBlock::DotEncoderBlock(int64_t in, int64_t units, Generator& gen) {
  hidden_ = add_module("hidden", std::make_shared<nn::Linear>(in, units, false, gen));
  bn_ = add_module("bn", std::make_shared<nn::BatchNorm>(units));
  out_ = add_module("out", std::make_shared<nn::Linear>(units, units, true, gen));
  shortcut_ = add_module("shortcut", std::make_shared<nn::Linear>(in, units, false, gen));
  shortcut_->weight.copy_from(near_identity(units, in, gen));
  ln_ = add_module("ln", std::make_shared<nn::LayerNormChannels>(units));
}

Tensor DotEncoderBlock::forward(const Tensor& rows) {
  check(rows.dim() == 2, "DotEncoderBlock", "expects rows [R, C], got " + shape_str(rows.shape()));
  const Tensor h = bn_->forward(hidden_->forward(rows), /*relu=*/true);
  // out(h) + shortcut(rows) as one output that both products accumulate into.
  return ln_->forward(linear_sum({h, rows}, {out_->weight, shortcut_->weight}, out_->bias));
}

DotCritic::DotCritic(int64_t local_channels, int64_t y_dim, int64_t units, Generator& gen)
    : units_(units) {
  local_ = add_module("local", std::make_shared<DotEncoderBlock>(local_channels, units, gen));
  global_ = add_module("global", std::make_shared<DotEncoderBlock>(y_dim, units, gen));
}

Tensor DotCritic::encode_local(const Tensor& local_map) {
  return reshape(local_->forward(local_rows(local_map)), {local_map.size(0), -1, units_});
}

Tensor DotCritic::encode_global(const Tensor& y) { return reshape(global_->forward(y), {y.size(0), 1, units_}); }

GlobalDotCritic::GlobalDotCritic(int64_t local_channels, int64_t map_size, int64_t y_dim, int64_t units,
                                 Generator& gen)
    : units_(units) {
  reducer_ = add_module("reducer", std::make_shared<MapReducer>(local_channels, map_size, gen));
  map_ = add_module("map", std::make_shared<DotEncoderBlock>(reducer_->features(), units, gen));
  global_ = add_module("global", std::make_shared<DotEncoderBlock>(y_dim, units, gen));
}

Tensor GlobalDotCritic::encode_map(const Tensor& local_map) {
  return reshape(map_->forward(reducer_->forward(local_map)), {local_map.size(0), 1, units_});
}

Tensor GlobalDotCritic::encode_global(const Tensor& y) { return global_->forward(y); }

CoordinatePredictor::CoordinatePredictor(int64_t local_channels, int64_t map_size, int64_t y_dim,
                                         int64_t units, Generator& gen)
    : map_size_(map_size), units_(units) {
  local_proj_ = add_module("local_proj", std::make_shared<nn::Linear>(local_channels, units, false, gen));
  global_proj_ = add_module("global_proj", std::make_shared<nn::Linear>(y_dim, units, true, gen));
  out_ = add_module("out", std::make_shared<nn::Linear>(units, 2 * map_size, true, gen));
}

Tensor CoordinatePredictor::logits(const Tensor& local_map, const Tensor& y) {
  check(local_map.dim() == 4 && local_map.size(2) == map_size_ && local_map.size(3) == map_size_ &&
            y.dim() == 2 && y.size(0) == local_map.size(0),
        "CoordinatePredictor",
        "expects a local map [N, C, " + std::to_string(map_size_) + ", " + std::to_string(map_size_) +
            "] and Y [N, D], got " + shape_str(local_map.shape()) + " and " + shape_str(y.shape()));
  const int64_t n = local_map.size(0), p = map_size_ * map_size_;
  Tensor a = reshape(local_proj_->forward(local_rows(local_map)), {n, p, units_});
  Tensor c = reshape(global_proj_->forward(y), {n, 1, units_});  // Y broadcast over the map
  return out_->forward(reshape(relu(add(a, c)), {n * p, units_}));
}

Tensor CoordinatePredictor::loss(const Tensor& local_map, const Tensor& y) {
  const Tensor z = logits(local_map, y);
  const int64_t m = map_size_, locations = z.size(0);
  std::vector<int32_t> row(locations), col(locations);
  for (int64_t r = 0; r < locations; ++r) {
    row[r] = static_cast<int32_t>((r % (m * m)) / m);
    col[r] = static_cast<int32_t>(r % m);
  }
  return add(cross_entropy(slice(z, 1, 0, m), row), cross_entropy(slice(z, 1, m, 2 * m), col));
}

PriorDiscriminator::PriorDiscriminator(int64_t y_dim, Generator& gen) {
  l1_ = add_module("l1", std::make_shared<nn::Linear>(y_dim, 1000, true, gen));
  l2_ = add_module("l2", std::make_shared<nn::Linear>(1000, 200, true, gen));
  l3_ = add_module("l3", std::make_shared<nn::Linear>(200, 1, true, gen));
}

Tensor PriorDiscriminator::forward(const Tensor& z) {
  return l3_->forward(relu(l2_->forward(relu(l1_->forward(z)))));
}

Probe::Probe(int64_t features, int64_t classes, Generator& gen, uint64_t dropout_seed) {
  l1_ = add_module("l1", std::make_shared<nn::Linear>(features, 200, true, gen));
  drop_ = add_module("dropout", std::make_shared<nn::Dropout>(0.1, dropout_seed));
  bn_ = add_module("bn", std::make_shared<nn::BatchNorm>(200));
  l2_ = add_module("l2", std::make_shared<nn::Linear>(200, classes, true, gen));
}

Tensor Probe::forward(const Tensor& features) {
  return l2_->forward(bn_->forward(drop_->forward(l1_->forward(features)), /*relu=*/true));
}

}  // namespace imx::models
