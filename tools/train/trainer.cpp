#include "tools/train/trainer.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "distributed/data_parallel.h"
#include "distributed/global_mi.h"
#include "distributed/sync_batch_norm.h"
#include "engine/autograd.h"
#include "engine/backend.h"
#include "engine/ops.h"
#include "imx/data/error.hpp"
#include "imx/data/host_allocator.hpp"
#include "imx/data/load.hpp"
#include "imx/data/loader.hpp"
#include "tools/train/errors.h"
#include "tools/train/plot.h"
#include "engine/progress.h"
#include "tools/train/run_files.h"
#include "tools/train/rank_sync.h"
#include "tools/train/run_state.h"
#include "tools/train/signals.h"

namespace imx::train {

namespace {

using json = nlohmann::json;

// The batch's images as a tensor on `device`. On CUDA the loader's buffers are pinned, so the
// tensor wraps the buffer (no copy) and the upload is asynchronous; the buffer returns to the
// loader's pool once the copy has completed (engine/cuda/cuda_backend.h).
Tensor images_to_tensor(data::Batch& b, Device device) {
  const Shape shape{b.n, b.c, b.h, b.w};
  if (device == Device::CUDA) {
    auto owner = std::make_shared<data::HostBuffer>(std::move(b.images));
    float* p = owner->data();
    return Tensor::wrap(std::shared_ptr<void>(owner, p), shape).to(device);
  }
  Tensor t = Tensor::empty(shape);
  std::memcpy(t.raw(), b.images.data(), t.nbytes());
  return t;
}

// A step's loss terms, kept where they were computed and read with one transfer at the end of
// the step: on CUDA, a host read per term would stall the stream between forward and backward.
struct StepTerms {
  std::vector<std::string> names;
  std::vector<Tensor> values;  // 0-d, detached
  void add(const std::string& name, const Tensor& value) {
    names.push_back(name);
    values.push_back(value.detach());
  }
  void add(const dim::Objective& o) {
    for (const auto& t : o.terms()) add(t.name, t.value);
  }
  std::map<std::string, double> read() const {
    std::vector<Tensor> flat;
    for (const Tensor& v : values) flat.push_back(reshape(v, {1}));
    const std::vector<double> host = concat(flat, 0).to_vector();  // the step's one host read
    std::map<std::string, double> out;
    for (size_t i = 0; i < names.size(); ++i) out[names[i]] = host[i];
    return out;
  }
};

// Throws DivergedError for the first term that is not finite. Called with the values averaged
// over ranks, so that every rank stops at the same step.
void check_finite(const std::map<std::string, double>& values, int64_t epoch, int64_t step) {
  for (const auto& [name, v] : values)
    if (!std::isfinite(v))
      throw DivergedError("dim-train: the " + name + " term is " + std::to_string(v) + " at epoch " +
                          std::to_string(epoch) + ", step " + std::to_string(step) +
                          "; stopping (the last checkpoint is intact; lower --lr or try another estimator)");
}

// The rows of x whose label is >= 0 (STL-10's unlabeled images train DIM, not the probes).
// Features are detached, so a one-hot product selects them exactly on any device.
Tensor labeled_rows(const Tensor& x, const std::vector<int32_t>& labels, std::vector<int32_t>& kept) {
  kept.clear();
  for (int32_t l : labels)
    if (l >= 0) kept.push_back(l);
  if (kept.size() == labels.size()) return x;
  std::vector<double> pick(kept.size() * labels.size(), 0.0);
  for (size_t i = 0, k = 0; i < labels.size(); ++i)
    if (labels[i] >= 0) pick[k++ * labels.size() + i] = 1.0;
  const Tensor sel = Tensor::from(pick, {static_cast<int64_t>(kept.size()), static_cast<int64_t>(labels.size())},
                                  x.dtype()).to(x.device());
  return matmul(sel, x);
}

// The probes' step; returns their summed loss (0-d), or an undefined tensor when they skip it.
Tensor probe_step(Run& r, const models::EncoderOutput& out, const std::vector<int32_t>& labels, dist::Group& g) {
  std::vector<int32_t> kept;
  const Tensor conv = labeled_rows(flatten(out.conv.detach()), labels, kept);
  // STL-10's unlabeled images may leave a rank none: the probes then skip the step on every
  // rank (their gradients are averaged, so either all ranks step or none).
  double fewest = static_cast<double>(kept.size());
  if (g.size() > 1) {
    fewest = -fewest;
    g.host().all_reduce(&fewest, 1, dist::Reduce::max);
    fewest = -fewest;
  }
  if (fewest == 0) return Tensor();
  const Tensor fc = labeled_rows(out.fc.detach(), labels, kept);
  const Tensor y = labeled_rows(out.y.detach(), labels, kept);
  r.opt_probes->zero_grad();
  Tensor loss = add(add(cross_entropy(r.probe_conv->forward(conv), kept), cross_entropy(r.probe_fc->forward(fc), kept)),
                    cross_entropy(r.probe_y->forward(y), kept));
  const Tensor value = loss.detach();
  loss.backward();
  dist::average_gradients(r.opt_probes->params(), g);
  r.opt_probes->step();
  return value;
}

// One optimizer step of every part; returns the step's unweighted terms (means over ranks) and
// sets *total to the encoder's weighted loss. With several ranks each part's gradients are
// averaged before its optimizer step, and the batch-norm statistics after it.
std::map<std::string, double> train_step(Run& r, data::Batch& batch, const Config& c, uint64_t step,
                                         int64_t epoch, dist::Group& g, double* total) {
  StepTerms terms;
  const Tensor x = images_to_tensor(batch, c.device);
  r.opt_encoder->zero_grad();
  auto enc = r.model->encoder_loss(x, step);  // the step selects prior samples and occlusions
  terms.add(enc.objective);
  enc.objective.total().backward();
  dist::average_gradients(r.opt_encoder->params(), g);
  r.opt_encoder->step();
  if (r.model->has_discriminator()) {
    r.opt_prior->zero_grad();  // drop what the encoder's prior term left in D
    const dim::Objective d = r.model->discriminator_loss(enc.features.y, step);
    terms.add(d);
    d.total().backward();
    dist::average_gradients(r.opt_prior->params(), g);
    r.opt_prior->step();
  }
  const Tensor probes = probe_step(r, enc.features, batch.labels, g);
  terms.add("probes", probes.defined() ? probes : Tensor::zeros({}, x.dtype(), x.device()));
  dist::average_buffers(*r.model, g);
  for (auto& [name, p] : r.probes()) dist::average_buffers(*p, g);
  std::map<std::string, double> values = terms.read();
  average_values(values, g);
  check_finite(values, epoch, static_cast<int64_t>(step));
  *total = 0;
  for (const auto& t : enc.objective.terms()) *total += t.weight * values.at(t.name);
  return values;
}

// Test accuracy of the three probes.
void evaluate(const Config& c, Run& r, data::Loader& loader, dist::Group& g, EpochResult& res) {
  NoGrad no_grad;
  r.model->eval();
  for (auto& [name, p] : r.probes()) p->eval();
  int64_t correct[3] = {0, 0, 0}, total = 0;  // this rank's shard of the test split
  auto count = [](const Tensor& logits, const std::vector<int32_t>& labels, int64_t& hits) {
    const std::vector<double> v = logits.to_vector();
    const int64_t k = logits.size(1);
    for (size_t i = 0; i < labels.size(); ++i) {
      int64_t best = 0;
      for (int64_t j = 1; j < k; ++j)
        if (v[i * k + j] > v[i * k + best]) best = j;
      hits += best == labels[i];
    }
  };
  while (auto batch = loader.next()) {
    if (batch->n == 0) continue;  // the last batch may leave a rank nothing
    models::EncoderOutput out = r.model->encoder().forward(images_to_tensor(*batch, c.device));
    count(r.probe_conv->forward(flatten(out.conv)), batch->labels, correct[0]);
    count(r.probe_fc->forward(out.fc), batch->labels, correct[1]);
    count(r.probe_y->forward(out.y), batch->labels, correct[2]);
    total += batch->n;
  }
  double counts[4] = {double(correct[0]), double(correct[1]), double(correct[2]), double(total)};
  g.host().all_reduce(counts, 4, dist::Reduce::sum);
  for (int i = 0; i < 3; ++i) correct[i] = static_cast<int64_t>(counts[i]);
  total = static_cast<int64_t>(counts[3]);
  check(total > 0, "dim-train", "the test split has no images to evaluate the probes on");
  res.acc_conv = static_cast<double>(correct[0]) / total;
  res.acc_fc = static_cast<double>(correct[1]) / total;
  res.acc_y = static_cast<double>(correct[2]) / total;
}

// The negatives the run uses (auto resolved by device).
dist::Negatives resolved_negatives(const Config& c) {
  if (c.negatives == "auto") return c.device == Device::CUDA ? dist::Negatives::gather : dist::Negatives::ring;
  try {
    return dist::parse_negatives(c.negatives);
  } catch (const Error& e) {
    throw UsageError(std::string("dim-train: --negatives: ") + e.what());
  }
}

void check_settings(const Config& c, int ranks) {
  try {
    c.model.validate();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw UsageError("dim-train: " + what);
  };
  require(c.epochs >= 1, "--epochs must be >= 1, got " + std::to_string(c.epochs));
  require(c.batch >= 2, "--batch must be >= 2, got " + std::to_string(c.batch));
  require(std::isfinite(c.lr) && c.lr > 0, "--lr must be > 0, got " + std::to_string(c.lr));
  require(std::isfinite(c.probe_lr) && c.probe_lr > 0, "--probe-lr must be > 0, got " + std::to_string(c.probe_lr));
  require(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1, "--beta1 and --beta2 must be in [0, 1)");
  require(c.limit_train >= 0 && c.limit_test >= 0, "--limit-train and --limit-test must be >= 0");
  require(c.checkpoint_every >= 0, "--checkpoint-every must be >= 0");
  require(c.step_log >= 0, "--step-log must be >= 0");
  require(c.workers >= 1, "--workers must be >= 1");
  if (c.model.local_critic == models::LocalCritic::concat && c.model.concat_negatives > 0)
    require(c.batch % (c.model.concat_negatives + 1) == 0,
            "--batch " + std::to_string(c.batch) + " must be a multiple of --concat-negatives + 1 = " +
                std::to_string(c.model.concat_negatives + 1) + " (images are scored in groups of that size)");
  if (c.device == Device::CUDA && !cuda_backend_available())
    throw UsageError("dim-train: --device cuda: " + cuda_unavailable_reason());
  const dist::Negatives negatives = resolved_negatives(c);
  if (ranks > 1 && negatives != dist::Negatives::local) {
    const bool concat = (c.model.beta > 0 && c.model.local_critic == models::LocalCritic::concat) ||
                        (c.model.alpha > 0 && c.model.global_critic == models::GlobalCritic::concat);
    require(!concat, "--negatives " + std::string(dist::negatives_name(negatives)) +
                         ": the whole batch's negatives need the dot critics (the concat critics score their own "
                         "batch); pass --negatives local");
    require(!(negatives == dist::Negatives::ring && c.device == Device::CUDA),
            "--negatives ring runs on the CPU; on CUDA use --negatives gather (the default there)");
  }
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}

}  // namespace

std::string checkpoint_path(const std::string& out_dir) { return RunFiles(out_dir).checkpoint(); }

data::Dataset first_images(const data::Dataset& d, int64_t n) {
  if (n <= 0 || static_cast<size_t>(n) >= d.size()) return d;
  check(!d.is_encoded(), "first_images", d.name + ": cannot cut a data set of undecoded images");
  data::Dataset out = d;
  out.labels.resize(n);
  out.pixels.resize(n * d.image_bytes());
  return out;
}

data::Dataset training_images(const data::Splits& s, const data::DatasetSpec& spec) {
  data::Dataset train = s.train;
  if (spec.kind == "stl10" && s.unlabeled) train.append(*s.unlabeled);
  return train;
}

CheckpointInfo checkpoint_info(const std::string& path) {
  const TensorFile f = load_safetensors(path);
  const json meta = run_settings_of(f, path);
  CheckpointInfo info;
  info.data = meta.value("data", "");
  const auto e = f.metadata.find("epoch");
  info.epoch = e == f.metadata.end() ? 0 : std::stoll(e->second);
  return info;
}

std::vector<EpochResult> run(const Config& config) {
  Config c = config;
  static dist::Group single_process(std::make_unique<dist::SingleProcess>(), nullptr, 0, 1);
  dist::Group& g = c.group ? *c.group : single_process;
  const int ranks = g.size();
  const bool root = g.is_root();
  const RunFiles files(c.out_dir);
  on_all_ranks(g, [&] {
    check_settings(c, ranks);  // before any work
    if (!root) return;
    if (c.resume && !std::filesystem::exists(files.checkpoint()))
      throw UsageError("dim-train: --resume: no checkpoint at " + files.checkpoint());
    files.prepare(c.resume, c.overwrite);
  });
  const int64_t global_batch = c.batch * ranks;

  const data::DatasetSpec spec = data::parse_spec(c.data);
  data::LoadOptions lo;
  lo.load_unlabeled = spec.kind == "stl10";
  data::Splits splits;
  on_all_ranks(g, [&] { splits = data::load_dataset(c.data, lo); });  // every machine needs the data
  const data::Dataset train = first_images(training_images(splits, spec), c.limit_train);
  const data::Dataset test = first_images(splits.test, c.limit_test);
  const int64_t classes = static_cast<int64_t>(train.class_names.size());
  if (classes < 2) throw data::DataError(c.data + ": the probes need labelled data with >= 2 classes");
  if (static_cast<int64_t>(train.size()) < global_batch)
    throw UsageError("dim-train: --batch " + std::to_string(c.batch) + (ranks > 1 ? " x " + std::to_string(ranks) + " ranks" : "") +
                     " is larger than the " + std::to_string(train.size()) + " training images");

  data::LoaderOptions train_opts;
  train_opts.batch_size = c.batch;
  train_opts.shards = ranks;
  train_opts.shard = g.rank();
  train_opts.workers = c.workers;
  train_opts.seed = c.seed;
  if (train.height == 96) train_opts.augment.resize_to = 64, train_opts.augment.hflip = true;
  if (c.device == Device::CUDA)  // page-locked batches, for asynchronous uploads
    train_opts.allocator = std::make_shared<data::PoolAllocator>(std::make_shared<data::PinnedAllocator>());
  data::LoaderOptions test_opts = train_opts;
  test_opts.shuffle = false;
  test_opts.drop_last = false;
  test_opts.augment.hflip = false;

  const data::Augmenter shape_probe(train.channels, train.height, train.width, train_opts.augment, c.seed);
  c.model.arch = c.arch == "auto" ? models::encoder_for_size(shape_probe.out_height()) : c.arch;
  c.model.channels = shape_probe.channels();
  c.model.seed = c.seed;
  const models::EncoderSpec enc = models::encoder_spec(c.model.arch, c.model.channels);
  if (enc.size != shape_probe.out_height() || enc.size != shape_probe.out_width())
    throw UsageError("dim-train: architecture " + c.model.arch + " expects " + std::to_string(enc.size) + "x" +
                     std::to_string(enc.size) + " images, the data gives " + std::to_string(shape_probe.out_height()) +
                     "x" + std::to_string(shape_probe.out_width()));
  Run r = build_run(c, classes);
  const dist::Negatives negatives = resolved_negatives(c);
  if (ranks > 1 && negatives != dist::Negatives::local)
    r.model->set_mi_loss([&g, negatives](const Tensor& local, const Tensor& global, mi::Estimator e) {
      return dist::global_mi_loss(local, global, e, g, negatives);
    });
  const int64_t per_epoch = static_cast<int64_t>(train.size()) / global_batch;  // the last partial batch is dropped
  const json settings = run_settings(c, classes, per_epoch, ranks, negatives);

  RunProgress state;
  if (c.resume) {
    const RankZeroFile checkpoint(files.checkpoint(), g);  // ranks on other machines get rank 0's copy
    on_all_ranks(g, [&] { state = load_checkpoint(checkpoint.path(), r, settings); });
    if (root) {
      files.trim(state.step / per_epoch, state.step);
      std::printf("resumed from %s at step %lld (epoch %lld)\n", files.checkpoint().c_str(),
                  static_cast<long long>(state.step), static_cast<long long>(state.step / per_epoch + 1));
    }
  }
  // The probes keep per-rank batch norm: their batches (the labelled images of each shard) may
  // differ in size between ranks, which synchronized batch norm does not allow.
  if (ranks > 1 && c.sync_bn) dist::synchronize_batch_norm(*r.model, g);
  // Every rank starts from rank 0's state (equal already, by the seed; this makes it certain).
  dist::broadcast_state(*r.model, g);
  for (auto& [name, p] : r.probes()) dist::broadcast_state(*p, g);
  train_opts.start_batch = static_cast<uint64_t>(state.step);
  data::Loader train_loader(train, train_opts), test_loader(test, test_opts);
  check(static_cast<int64_t>(train_loader.batches_per_epoch()) == per_epoch, "dim-train", "batches per epoch (internal error)");
  const int64_t total_steps = c.epochs * per_epoch;
  if (state.step > total_steps)
    throw UsageError("dim-train: the checkpoint is at step " + std::to_string(state.step) + ", past --epochs " +
                     std::to_string(c.epochs) + " (" + std::to_string(total_steps) + " steps)");

  if (!root && !std::freopen("/dev/null", "w", stdout)) throw Error("dim-train: cannot silence rank " + std::to_string(g.rank()));
  std::string objective;
  for (auto [name, w] : {std::pair{"alpha", c.model.alpha}, {"beta", c.model.beta}, {"gamma", c.model.gamma},
                         {"coord", c.model.coord}})
    objective += std::string(objective.empty() ? "" : " ") + name + "=" + fmt(w).substr(0, 5);
  std::printf("dim-train: %s, %zu train / %zu test images, %s encoder, %s estimator, %s local / %s global critic, "
              "%s%s, %s\n",
              c.data.c_str(), train.size(), test.size(), c.model.arch.c_str(),
              std::string(mi::estimator_name(c.model.estimator)).c_str(),
              std::string(models::local_critic_name(c.model.local_critic)).c_str(),
              std::string(models::global_critic_name(c.model.global_critic)).c_str(), objective.c_str(),
              c.model.occlude ? " occlude" : "", device_name(c.device));
  if (ranks > 1)
    std::printf("data-parallel: %s, %lld images per rank, global batch %lld, negatives: %s\n", g.describe().c_str(),
                static_cast<long long>(c.batch), static_cast<long long>(global_batch),
                negatives == dist::Negatives::local ? "each rank's own batch"
                                                    : (std::string(dist::negatives_name(negatives)) + " (the global batch)").c_str());
  if (ranks > 1)
    std::printf("batch norm: %s\n", c.sync_bn ? "statistics of the global batch (--sync-bn)" : "statistics of each rank's batch");

  StopOnSignal stop;
  tools::Progress progress("train", static_cast<long>(total_steps - state.step), c.progress_seconds);
  const auto run_start = std::chrono::steady_clock::now();
  const double wall_before = state.wall_seconds;
  auto wall = [&] {
    return wall_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  };
  std::vector<EpochResult> results;
  const int64_t first_step = state.step;
  double images = 0;
  while (state.step < total_steps) {
    const int64_t epoch = state.step / per_epoch + 1, position = state.step % per_epoch;
    if (position == 0 || state.step == first_step) {
      r.probe_schedule->set_epoch(epoch - 1);
      r.model->train();
      for (auto& [name, p] : r.probes()) p->train();
    }
    auto batch = train_loader.next();
    if (!batch) batch = train_loader.next();  // the previous epoch's end marker
    check(batch && static_cast<int64_t>(batch->epoch) == epoch - 1 && static_cast<int64_t>(batch->number) == position,
          "dim-train", "the loader is out of step with the run (internal error)");
    const auto t0 = std::chrono::steady_clock::now();
    double total = 0;
    const std::map<std::string, double> values =
        train_step(r, *batch, c, static_cast<uint64_t>(state.step), epoch, g, &total);
    const int64_t step_images = batch->n * ranks;  // every rank's shard is as large
    state.epoch.add(values, total, step_images, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ++state.step;
    images += step_images;
    state.wall_seconds = wall();
    if (root && c.step_log > 0 && (state.step - 1) % c.step_log == 0)
      files.append_step({{"step", state.step - 1}, {"epoch", epoch}, {"loss", total}, {"terms", values},
                         {"lr", r.opt_encoder->lr()}, {"wall_seconds", state.wall_seconds}});
    std::string extra = "epoch " + std::to_string(epoch) + "/" + std::to_string(c.epochs) + " loss " + fmt(state.epoch.mean_loss());
    for (const auto& [name, v] : state.epoch.means()) extra += " " + name + " " + fmt(v);
    progress.update(static_cast<long>(state.step - first_step), images, extra);
    if (c.after_step) c.after_step(state.step);

    const bool epoch_done = state.step % per_epoch == 0;
    if (epoch_done) {
      EpochResult res = state.epoch.result(epoch);
      evaluate(c, r, test_loader, g, res);
      r.model->train();
      for (auto& [name, p] : r.probes()) p->train();
      if (root)
        files.append_metrics({{"epoch", epoch},
                            {"step", state.step},
                            {"wall_seconds", wall()},
                            {"lr_encoder", r.opt_encoder->lr()},
                            {"lr_probes", r.opt_probes->lr()},
                            {"loss", res.loss},
                            {"first_loss", res.first_loss},
                            {"last_loss", res.last_loss},
                            {"terms", res.terms},
                            {"acc_conv", res.acc_conv},
                            {"acc_fc", res.acc_fc},
                            {"acc_y", res.acc_y},
                            {"images_per_second", res.images_per_second}});
      state.epoch = EpochSums{};
      if (root) save_checkpoint(files.checkpoint(), r, state, settings);
      std::printf("epoch %lld: loss %s (first 10 steps %s, last 10 %s) | probe test accuracy: conv %.2f%%  fc %.2f%%  "
                  "y %.2f%% | %.0f img/s\n",
                  static_cast<long long>(epoch), fmt(res.loss).c_str(), fmt(res.first_loss).c_str(),
                  fmt(res.last_loss).c_str(), 100 * res.acc_conv, 100 * res.acc_fc, 100 * res.acc_y,
                  res.images_per_second);
      std::fflush(stdout);
      results.push_back(res);
    }
    // A signal seen by any rank stops every rank after the same step.
    if (const int sig = ranks > 1 ? max_over_ranks(stop.requested(), g) : stop.requested()) {
      if (!epoch_done && root) save_checkpoint(files.checkpoint(), r, state, settings);
      throw Interrupted(sig, "stopped by " + std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + " after step " +
                                 std::to_string(state.step) + " of " + std::to_string(total_steps) + "; " +
                                 files.checkpoint() + " holds it");
    }
    if (root && !epoch_done && c.checkpoint_every > 0 && state.step % c.checkpoint_every == 0)
      save_checkpoint(files.checkpoint(), r, state, settings);
  }
  if (root && c.plot) {
    std::string why;
    if (plot_run(files, "dim-train " + c.out_dir, &why))
      std::printf("plot: %s\n", files.plot().c_str());
    else
      std::printf("plot: not drawn (%s)\n", why.c_str());
  }
  return results;
}

}  // namespace imx::train
