// Everything that shapes a Deep InfoMax model and its objective (dim-reference.md §1–§3), with
// the paper's presets. Stored in checkpoints as JSON, so a model can be rebuilt from the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "losses/mi/mi.h"
#include "models/occlusion.h"

namespace imx::models {

enum class LocalCritic { dot, concat };
enum class GlobalCritic { dot, concat };

struct DimConfig {
  std::string arch = "mnist28";  // encoder: mnist28, dcgan32, alexnet64
  int64_t channels = 0;          // input channels; 0 = the architecture's usual count
  mi::Estimator estimator = mi::Estimator::jsd;
  // Encoder objective: alpha · global + beta · local + gamma · prior + coord · coordinates.
  double alpha = 0.0, beta = 1.0, gamma = 0.1, coord = 0.0;
  LocalCritic local_critic = LocalCritic::dot;
  GlobalCritic global_critic = GlobalCritic::dot;
  int64_t mi_units = 2048;        // dot critics: width of the shared space
  int64_t concat_units = 512;     // concat critics and the coordinate head: hidden width
  int64_t concat_negatives = 0;   // concat local critic: negative images per image; 0 = all
  double penalty = 1.0;           // weight of the discriminator's gradient penalty
  bool occlude = false;
  OcclusionSpec occlusion;
  uint64_t seed = 1;              // initialization, prior samples, occlusion squares

  // Throws imx::Error naming the offending setting (as its dim-train flag).
  void validate() const;
  std::string to_json() const;
  static DimConfig from_json(const std::string& text);  // throws imx::Error on bad JSON
};

// "dim-l" (alpha 0, beta 1, gamma 0.1), "dim-g" (alpha 1, beta 0, gamma 1) and "dim-lg"
// (alpha 0.5, beta 1, gamma 0.1): sets the three weights; throws for an unknown name.
void apply_preset(DimConfig& c, const std::string& preset);
const std::vector<std::string>& preset_names();

std::string_view local_critic_name(LocalCritic c);
std::string_view global_critic_name(GlobalCritic c);
LocalCritic parse_local_critic(const std::string& name);    // "dot" | "concat"
GlobalCritic parse_global_critic(const std::string& name);  // "dot" | "concat"

}  // namespace imx::models
