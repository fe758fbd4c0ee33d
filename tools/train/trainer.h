// dim-train's orchestration: data, optimizer steps, probes, logging and checkpoints around a
// models::DeepInfoMax (which owns every network and returns the loss terms). Probes train on
// detached conv/fc/Y features alongside and are evaluated on the test split each epoch.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "distributed/group.h"
#include "engine/core.h"
#include "imx/data/dataset.hpp"
#include "imx/data/load.hpp"
#include "models/deep_infomax.h"

namespace imx::train {

struct Config {
  std::string data;              // KIND:PATH
  std::string arch = "auto";     // mnist28 | dcgan32 | alexnet64 | auto (from the image size)
  models::DimConfig model;       // objectives, critics, widths (model.arch is set from `arch`)
  int64_t epochs = 10;
  int64_t batch = 64;            // per rank: the global batch is batch * ranks
  double lr = 1e-4, beta1 = 0.5, beta2 = 0.999;
  double probe_lr = 1e-4;
  std::vector<int64_t> probe_milestones{50, 100};
  Device device = Device::CPU;
  uint64_t seed = 1;             // also model.seed
  std::string out_dir = "dim-out";
  bool resume = false;
  bool overwrite = false;          // replace the run files of another run in out_dir
  int64_t checkpoint_every = 500;  // steps between mid-epoch checkpoints (0 = epoch ends only)
  int64_t step_log = 10;           // steps between lines of OUT/steps.jsonl (0 = none)
  bool plot = true;                // OUT/training.png at the end
  // Called after every completed step with the number of steps done (tests, embedding programs).
  std::function<void(int64_t steps_done)> after_step;
  int64_t limit_train = 0, limit_test = 0;  // 0 = all images
  unsigned workers = 2;
  double progress_seconds = 5.0;
  // Data parallelism (mpirun -np N dim-train): the ranks, or null for one process. Every rank
  // runs run() with the same Config; rank 0 alone writes files and prints.
  dist::Group* group = nullptr;
  // Which negatives the dot critics' MI loss sees with several ranks: ring or gather (the whole
  // global batch, equal results; distributed/global_mi.h), local (each rank's own), or auto
  // (ring on the CPU, gather on CUDA).
  std::string negatives = "auto";
  // With several ranks: batch norm with the statistics of the whole global batch (synchronized)
  // instead of each rank's own.
  bool sync_bn = false;
};

struct EpochResult {
  int64_t epoch = 0;  // 1-based
  // Epoch means of every loss term by name (unweighted): the encoder's ("local", "global",
  // "prior", "coord"), the discriminator's ("disc", "penalty") and "probes".
  std::map<std::string, double> terms;
  // The encoder's weighted total: mean over the epoch, and over its first and last 10 steps.
  double loss = 0, first_loss = 0, last_loss = 0;
  double acc_conv = 0, acc_fc = 0, acc_y = 0;  // test accuracy of each probe, in [0, 1]
  double images_per_second = 0;
};

// Runs the whole training; returns one result per epoch finished in this call. Every setting is
// checked before any work. Throws the errors of tools/train/errors.h (each with its exit
// status): UsageError, InputError or data::DataError, DivergedError, and Interrupted after a
// clean stop on SIGINT/SIGTERM (a checkpoint is written first). A run is reproducible bit for
// bit for a fixed thread count, also across a stop and --resume.
std::vector<EpochResult> run(const Config& config);

// Checkpoint file inside out_dir.
std::string checkpoint_path(const std::string& out_dir);

// The images DIM trains on: the train split, plus STL-10's unlabeled split (105,000 images in
// all, as the reference does); probes only ever see labelled images.
data::Dataset training_images(const data::Splits& s, const data::DatasetSpec& spec);

// The first n images of a data set (all of it when n is 0 or at least its size).
data::Dataset first_images(const data::Dataset& d, int64_t n);

// The data set a dim-train checkpoint was trained on (KIND:PATH) and its last epoch.
struct CheckpointInfo {
  std::string data;
  int64_t epoch = 0;
};
CheckpointInfo checkpoint_info(const std::string& checkpoint);

}  // namespace imx::train
