// How much training each measurement of dim-eval gets. "full" follows the reference where it
// says (the MLP probe: Adam 1e-4, batch 64, lr ×0.1 at epochs 50 and 100; 150 epochs, i.e. 50
// after the last drop, since the reference trains its probes alongside the encoder and states
// no end); "quick" fits the whole evaluation of Fashion-MNIST with every baseline into a few
// minutes on two CPU cores. Every field has its own dim-eval flag, applied over the preset.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace imx::eval {

struct Budget {
  std::string preset = "full";
  int64_t probe_epochs = 150;                 // MLP probe (0 = not run)
  std::vector<int64_t> probe_milestones{50, 100};
  double probe_lr = 1e-4;
  int64_t linear_epochs = 30;                 // linear probe (0 = not run)
  std::vector<int64_t> linear_milestones{10, 20};
  double linear_lr = 1e-3;
  int64_t knn_queries = 0;                    // test images the k-NN classifies (0 = all, -1 = not run)
  int64_t dependency_steps = 2000;            // NDM and MINE critic steps each (0 = not run)
  int64_t bn_images = 0;                      // training images for the BN-statistics baseline (0 = all)
};

// "full" or "quick"; throws imx::Error naming the valid presets otherwise.
Budget budget_preset(const std::string& name);
const std::vector<std::string>& budget_presets();

// The reference's milestones 50 and 100 of 150 epochs scaled to `epochs` (rounded), keeping
// the distinct ones inside [1, epochs): 150 → 50, 100; 10 → 3, 7; 3 → 1, 2; 2 → 1; 1 → none.
std::vector<int64_t> scaled_milestones(int64_t epochs);

// One line for the report, e.g. "quick: MLP probe 2 epochs (lr 1e-3, ×0.1 at 1), ...".
std::string describe(const Budget& b);
nlohmann::json to_json(const Budget& b);

}  // namespace imx::eval
