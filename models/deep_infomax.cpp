#include "models/deep_infomax.h"

#include "engine/nn/state.h"
#include "engine/random.h"
#include "losses/dim/dim_losses.h"
#include "losses/dim/score_losses.h"

namespace imx::models {

namespace {
constexpr uint64_t kPriorStream = 0x7072696f72;  // "prior"
constexpr const char* kConfigKey = "dim_model";
}  // namespace

DeepInfoMax::DeepInfoMax(const DimConfig& c) : config_(c) {
  c.validate();
  Generator gen(c.seed);
  encoder_ = add_module("encoder", std::make_shared<Encoder>(encoder_spec(c.arch, c.channels), gen));
  const int64_t lc = encoder_->local_channels(), m = encoder_->local_size(), yd = encoder_->spec().y_dim;
  if (c.beta > 0) {
    if (c.local_critic == LocalCritic::dot)
      local_dot_ = add_module("local_critic", std::make_shared<DotCritic>(lc, yd, c.mi_units, gen));
    else
      local_concat_ = add_module("local_critic", std::make_shared<ConcatLocalCritic>(lc, yd, c.concat_units, gen));
  }
  if (c.alpha > 0) {
    if (c.global_critic == GlobalCritic::dot)
      global_dot_ = add_module("global_critic", std::make_shared<GlobalDotCritic>(lc, m, yd, c.mi_units, gen));
    else
      global_concat_ =
          add_module("global_critic", std::make_shared<GlobalConcatCritic>(lc, m, yd, c.concat_units, gen));
  }
  if (c.gamma > 0) prior_ = add_module("prior", std::make_shared<PriorDiscriminator>(yd, gen));
  if (c.coord > 0) coord_ = add_module("coord", std::make_shared<CoordinatePredictor>(lc, m, yd, c.concat_units, gen));
}

Tensor DeepInfoMax::dot_mi_loss(const Tensor& local, const Tensor& global) {
  return mi_loss_ ? mi_loss_(local, global, config_.estimator) : mi_loss(local, global, config_.estimator);
}

Tensor DeepInfoMax::local_term(const Tensor& local_map, const Tensor& y) {
  if (local_dot_) return dot_mi_loss(local_dot_->encode_local(local_map), local_dot_->encode_global(y));
  // Concat critic: every image's Y against the maps of its group (all images by default, or
  // groups of concat_negatives + 1 consecutive images of the shuffled batch); the loss is the
  // mean over groups, each a whole estimator problem of its own.
  const int64_t n = local_map.size(0);
  const int64_t group = config_.concat_negatives > 0 ? config_.concat_negatives + 1 : n;
  check(n % group == 0 && group >= 2, "DeepInfoMax",
        "a batch of " + std::to_string(n) + " images cannot be split into groups of --concat-negatives + 1 = " +
            std::to_string(group) + " (choose a batch size that is a multiple of it)");
  Tensor total;
  for (int64_t g0 = 0; g0 < n; g0 += group) {
    Tensor scores = local_concat_->scores(slice(local_map, 0, g0, g0 + group), slice(y, 0, g0, g0 + group));
    Tensor loss = mi_loss_from_scores(scores, group, 1, config_.estimator);
    total = total.defined() ? add(total, loss) : loss;
  }
  return n == group ? total : scale(total, static_cast<double>(group) / n);
}

Tensor DeepInfoMax::global_term(const Tensor& local_map, const Tensor& y) {
  if (global_dot_) return dot_mi_loss(global_dot_->encode_map(local_map), global_dot_->encode_global(y));
  return mi_loss_from_scores(global_concat_->scores(local_map, y), local_map.size(0), 1, config_.estimator);
}

DeepInfoMax::EncoderStep DeepInfoMax::encoder_loss(const Tensor& x, uint64_t step) {
  EncoderStep out;
  out.features = encoder_->forward(x);
  const Tensor& local = out.features.local;
  // With occlusion, Y comes from a second pass over the occluded images; the local features
  // stay those of the full input.
  const Tensor y = config_.occlude ? encoder_->forward(occlude(x, config_.occlusion, config_.seed, step)).y
                                   : out.features.y;
  if (config_.beta > 0) out.objective.add("local", local_term(local, y), config_.beta);
  if (config_.alpha > 0) out.objective.add("global", global_term(local, y), config_.alpha);
  if (prior_) out.objective.add("prior", prior_encoder_loss(prior_->forward(sigmoid(y))), config_.gamma);
  if (coord_) out.objective.add("coord", coord_->loss(local, y), config_.coord);
  return out;
}

dim::Objective DeepInfoMax::discriminator_loss(const Tensor& y, uint64_t step) {
  check(prior_ != nullptr, "DeepInfoMax", "discriminator_loss needs the prior term (gamma > 0)");
  const Tensor encoded = sigmoid(y.detach());
  Generator gen = stream_generator(config_.seed, kPriorStream, step);
  const Tensor sample = uniform(encoded.shape(), 0, 1, gen, encoded.dtype(), encoded.device());
  dim::Objective o;
  o.add("disc", prior_discriminator_loss(prior_->forward(sample), prior_->forward(encoded)), 1.0);
  if (config_.penalty > 0) {
    // The reference code penalizes D's input gradient at both the prior and the encoded samples.
    auto d = [this](const Tensor& z) { return prior_->forward(z); };
    o.add("penalty", add(dim::gradient_penalty(d, sample), dim::gradient_penalty(d, encoded)), config_.penalty);
  }
  return o;
}

std::vector<Tensor> DeepInfoMax::encoder_parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters())
    if (name.rfind("prior.", 0) != 0) out.push_back(p);
  return out;
}

std::vector<Tensor> DeepInfoMax::discriminator_parameters() const {
  return prior_ ? prior_->parameters() : std::vector<Tensor>{};
}

double DeepInfoMax::critic_flops(int64_t n) const {
  const int64_t p = encoder_->local_size() * encoder_->local_size();
  double f = 0;
  if (local_dot_) f += 2.0 * n * n * p * config_.mi_units;
  if (local_concat_) {
    const int64_t group = config_.concat_negatives > 0 ? config_.concat_negatives + 1 : n;
    f += static_cast<double>(n) * group * p * local_concat_->scorer().flops_per_pair();
  }
  if (global_dot_) f += 2.0 * n * n * config_.mi_units;
  if (global_concat_) f += static_cast<double>(n) * n * (2.0 * config_.concat_units * config_.concat_units);
  return f;
}

void DeepInfoMax::save_to(TensorFile& file) const {
  nn::save_state(*this, "", file);
  file.metadata[kConfigKey] = config_.to_json();
}

std::shared_ptr<DeepInfoMax> DeepInfoMax::from_file(const TensorFile& file, const std::string& path) {
  const auto it = file.metadata.find(kConfigKey);
  check(it != file.metadata.end(), "DeepInfoMax::load",
        path + " holds no Deep InfoMax model (no '" + std::string(kConfigKey) + "' metadata)");
  DimConfig c;
  try {
    c = DimConfig::from_json(it->second);
  } catch (const std::exception& e) {
    fail("DeepInfoMax::load", path + ": " + e.what());
  }
  auto model = std::make_shared<DeepInfoMax>(c);
  nn::load_state(*model, file, "", path);
  return model;
}

std::shared_ptr<DeepInfoMax> DeepInfoMax::load(const std::string& path, Device device) {
  auto model = from_file(load_safetensors(path), path);
  model->to(device);
  model->eval();
  return model;
}

}  // namespace imx::models
