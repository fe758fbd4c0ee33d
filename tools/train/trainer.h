// Deep InfoMax training: the encoder, its dot-product local critic and (optionally) the prior
// discriminator trained jointly, with classification probes trained on detached features
// alongside, evaluated on the test split each epoch. Checkpoints are atomic and resumable.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core.h"
#include "imx/data/dataset.hpp"
#include "losses/mi/mi.h"
#include "models/encoder.h"

namespace imx::train {

struct Config {
  std::string data;              // KIND:PATH
  std::string arch = "auto";     // mnist28 | dcgan32 | alexnet64 | auto (from the image size)
  mi::Estimator estimator = mi::Estimator::jsd;
  double alpha = 0.0;            // DIM(G) weight (global critic: not implemented, must be 0)
  double beta = 1.0;             // DIM(L) weight
  double gamma = 0.1;            // prior-matching weight (0 turns the discriminator off)
  int64_t mi_units = 2048;       // width of the critic's shared space
  int64_t epochs = 10;
  int64_t batch = 64;
  double lr = 1e-4, beta1 = 0.5, beta2 = 0.999;
  double probe_lr = 1e-4;
  std::vector<int64_t> probe_milestones{50, 100};
  Device device = Device::CPU;
  uint64_t seed = 1;
  std::string out_dir = "dim-out";
  bool resume = false;
  int64_t limit_train = 0, limit_test = 0;  // 0 = all images
  unsigned workers = 2;
  double progress_seconds = 5.0;
};

struct EpochResult {
  int64_t epoch = 0;  // 1-based
  double mi_loss = 0, prior_loss = 0, disc_loss = 0, probe_loss = 0;
  double acc_conv = 0, acc_fc = 0, acc_y = 0;  // test accuracy of each probe, in [0, 1]
  double images_per_second = 0;
};

// Runs the whole training; returns one result per epoch run in this call. Throws imx::Error
// with a clear message on bad configuration, bad data or a non-finite loss.
std::vector<EpochResult> run(const Config& config);

// Checkpoint file inside out_dir.
std::string checkpoint_path(const std::string& out_dir);

// The first n images of a data set (all of it when n is 0 or at least its size).
data::Dataset first_images(const data::Dataset& d, int64_t n);

// The encoder of a dim-train checkpoint, rebuilt from the settings stored in it, in eval mode.
struct TrainedEncoder {
  std::shared_ptr<models::Encoder> encoder;
  std::string data;  // the data set it was trained on (KIND:PATH)
  int64_t epoch = 0;
};
TrainedEncoder load_trained_encoder(const std::string& checkpoint, Device device = Device::CPU);

}  // namespace imx::train
