// Deep InfoMax as one model (dim-reference.md §1–§3): the encoder, the local and global
// critics, the prior discriminator and the coordinate head, built from a DimConfig. It returns
// the named loss terms of a batch (composed in losses/dim/objective.h); training programs only
// schedule optimizer steps. Checkpoints hold the config, so load() rebuilds the same model.
//
//   models::DimConfig c;                      // or apply_preset(c, "dim-g")
//   models::DeepInfoMax dim(c);
//   auto step = dim.encoder_loss(images, step_index);
//   step.objective.total().backward();        // then an optimizer step on encoder_parameters()
//   dim.discriminator_loss(step.features.y, step_index).total().backward();  // when gamma > 0
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/safetensors.h"
#include "losses/dim/objective.h"
#include "models/concat_critics.h"
#include "models/critics.h"
#include "models/dim_config.h"
#include "models/encoder.h"

namespace imx::models {

class DeepInfoMax : public nn::Module {
 public:
  explicit DeepInfoMax(const DimConfig& config);

  const DimConfig& config() const { return config_; }
  Encoder& encoder() { return *encoder_; }
  const Encoder& encoder() const { return *encoder_; }

  struct EncoderStep {
    EncoderOutput features;  // of the full input (what the probes read)
    dim::Objective objective;  // "local", "global", "prior", "coord", as configured
  };
  // The encoder's terms for images x [N, C, S, S]; `step` selects the prior samples and the
  // occlusion squares (deterministic per (seed, step)).
  EncoderStep encoder_loss(const Tensor& x, uint64_t step);
  // The prior discriminator's terms ("disc" and, with penalty > 0, "penalty") against the
  // encodings sigmoid(y) (detached here) and a fresh uniform prior sample of step `step`.
  // Requires gamma > 0.
  dim::Objective discriminator_loss(const Tensor& y, uint64_t step);

  // Trained by the encoder's optimizer: encoder, critics, coordinate head.
  std::vector<Tensor> encoder_parameters() const;
  // Trained by the discriminator's optimizer (empty when gamma == 0).
  std::vector<Tensor> discriminator_parameters() const;
  bool has_discriminator() const { return prior_ != nullptr; }

  // How the dot critics' features become the MI loss: mi_loss over this batch by default. A
  // data-parallel run sets one that scores against the whole global batch
  // (distributed/global_mi.h). The concat critics score their own batch only.
  using MiLoss = std::function<Tensor(const Tensor& local, const Tensor& global, mi::Estimator)>;
  void set_mi_loss(MiLoss f) { mi_loss_ = std::move(f); }
  bool uses_dot_critics_only() const { return !local_concat_ && !global_concat_; }

  // Pair-score work of one batch of n images per objective, in forward FLOPs (for benchmarks).
  double critic_flops(int64_t n) const;

  // Weights, running statistics and the config (metadata "dim_model") into / from a file.
  void save_to(TensorFile& file) const;
  static std::shared_ptr<DeepInfoMax> from_file(const TensorFile& file, const std::string& path);
  static std::shared_ptr<DeepInfoMax> load(const std::string& path, Device device = Device::CPU);

 private:
  Tensor dot_mi_loss(const Tensor& local, const Tensor& global);
  Tensor local_term(const Tensor& local_map, const Tensor& y);
  Tensor global_term(const Tensor& local_map, const Tensor& y);

  DimConfig config_;
  std::shared_ptr<Encoder> encoder_;
  std::shared_ptr<DotCritic> local_dot_;
  std::shared_ptr<ConcatLocalCritic> local_concat_;
  std::shared_ptr<GlobalDotCritic> global_dot_;
  std::shared_ptr<GlobalConcatCritic> global_concat_;
  std::shared_ptr<PriorDiscriminator> prior_;
  std::shared_ptr<CoordinatePredictor> coord_;
  MiLoss mi_loss_;
};

}  // namespace imx::models
