// The files of one run in its --out folder: the checkpoint, the per-epoch metrics, the
// per-step log and the plot. A folder holding another run is never written over by accident.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace imx::train {

class RunFiles {
 public:
  explicit RunFiles(std::string dir) : dir_(std::move(dir)) {}
  std::string checkpoint() const { return dir_ + "/checkpoint.safetensors"; }
  std::string metrics() const { return dir_ + "/metrics.jsonl"; }
  std::string steps() const { return dir_ + "/steps.jsonl"; }
  std::string plot() const { return dir_ + "/training.png"; }

  // Creates the folder. A new run (resume false) refuses a folder that holds a run's files
  // unless `overwrite`, which removes them (UsageError naming the folder and both flags).
  void prepare(bool resume, bool overwrite) const;
  // On resume: drops the records written after the checkpoint (epochs > epochs_done, steps
  // >= steps_done), so a run killed between the two writes leaves no duplicate lines.
  void trim(int64_t epochs_done, int64_t steps_done) const;
  void append_metrics(const nlohmann::json& line) const;
  void append_step(const nlohmann::json& line) const;

 private:
  std::string dir_;
};

}  // namespace imx::train
