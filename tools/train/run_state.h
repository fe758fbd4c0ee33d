// Everything a dim-train run is made of and what its checkpoint holds: the model, the probes,
// the optimizers, the run's position (steps done, the epoch's running sums, wall time) and the
// random streams, so that a resumed run continues exactly where it stopped.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "distributed/global_mi.h"
#include "engine/optim.h"
#include "engine/safetensors.h"
#include "models/deep_infomax.h"
#include "tools/train/trainer.h"

namespace imx::train {

struct Run {
  std::shared_ptr<models::DeepInfoMax> model;
  std::shared_ptr<models::Probe> probe_conv, probe_fc, probe_y;
  std::unique_ptr<Adam> opt_encoder, opt_prior, opt_probes;
  std::unique_ptr<MultiStepLR> probe_schedule;

  std::vector<std::pair<std::string, nn::Module*>> probes() const;
  std::vector<std::pair<std::string, Adam*>> optimizers() const;
};

Run build_run(const Config& c, int64_t classes);

// Running sums of the current epoch (saved in mid-epoch checkpoints, so that the epoch's
// metrics after a resume are those of an uninterrupted run).
struct EpochSums {
  std::map<std::string, double> term_sums;
  std::vector<double> totals;  // the weighted loss of each step
  double images = 0, seconds = 0;

  void add(const std::map<std::string, double>& terms, double total, int64_t n, double step_seconds);
  double mean_loss() const;
  std::map<std::string, double> means() const;
  EpochResult result(int64_t epoch) const;  // without the probe accuracies
  nlohmann::json to_json() const;
  static EpochSums from_json(const nlohmann::json& j);
};

struct RunProgress {
  int64_t step = 0;  // steps done (the loader's batch sequence number of the next step)
  double wall_seconds = 0;
  EpochSums epoch;
};

// The settings a resumed run must share with the checkpoint (everything that shapes results).
// "batch" is the global batch (per-rank --batch times ranks), so a run may resume on another
// rank count with the same global batch; the negatives count only with several ranks (one
// rank always sees the whole batch), as "global" (ring and gather give the same loss) or "local".
nlohmann::json run_settings(const Config& c, int64_t classes, int64_t steps_per_epoch, int ranks = 1,
                            dist::Negatives negatives = dist::Negatives::ring);
// The settings stored in a checkpoint; InputError naming `path` when absent or unreadable.
nlohmann::json run_settings_of(const TensorFile& f, const std::string& path);

void save_checkpoint(const std::string& path, const Run& r, const RunProgress& p, const nlohmann::json& settings);
// Loads weights, optimizer state, streams and position into r. InputError for an unreadable,
// truncated or incomplete file; UsageError (naming each differing field) when it was written
// with other settings.
RunProgress load_checkpoint(const std::string& path, Run& r, const nlohmann::json& settings);

}  // namespace imx::train
