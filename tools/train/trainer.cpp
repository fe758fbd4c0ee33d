#include "tools/train/trainer.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/backend.h"
#include "engine/nn/state.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/safetensors.h"
#include "imx/data/host_allocator.hpp"
#include "imx/data/load.hpp"
#include "imx/data/loader.hpp"
#include "tools/train/progress.h"

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

std::vector<Tensor> params_of(std::initializer_list<nn::Module*> ms) {
  std::vector<Tensor> out;
  for (auto* m : ms)
    for (auto& p : m->parameters()) out.push_back(p);
  return out;
}

// The model, the probes and their optimizers.
struct Run {
  std::shared_ptr<models::DeepInfoMax> model;
  std::shared_ptr<models::Probe> probe_conv, probe_fc, probe_y;
  std::unique_ptr<Adam> opt_encoder, opt_prior, opt_probes;
  std::unique_ptr<MultiStepLR> probe_schedule;

  std::vector<std::pair<std::string, nn::Module*>> probes() const {
    return {{"probe_conv", probe_conv.get()}, {"probe_fc", probe_fc.get()}, {"probe_y", probe_y.get()}};
  }
  std::vector<std::pair<std::string, Adam*>> optimizers() const {
    std::vector<std::pair<std::string, Adam*>> o{{"encoder", opt_encoder.get()}, {"probes", opt_probes.get()}};
    if (opt_prior) o.emplace_back("prior", opt_prior.get());
    return o;
  }
};

Run build_run(const Config& c, int64_t classes) {
  Run r;
  r.model = std::make_shared<models::DeepInfoMax>(c.model);
  const models::Encoder& enc = r.model->encoder();
  Generator gen(c.seed + 0x70726f6265ull);  // the probes' own stream: the model's init is unchanged by them
  r.probe_conv = std::make_shared<models::Probe>(enc.conv_features(), classes, gen, c.seed + 11);
  r.probe_fc = std::make_shared<models::Probe>(enc.fc_features(), classes, gen, c.seed + 12);
  r.probe_y = std::make_shared<models::Probe>(enc.spec().y_dim, classes, gen, c.seed + 13);
  r.model->to(c.device);
  for (auto& [name, p] : r.probes()) p->to(c.device);
  r.opt_encoder = std::make_unique<Adam>(r.model->encoder_parameters(), c.lr, c.beta1, c.beta2);
  if (r.model->has_discriminator())
    r.opt_prior = std::make_unique<Adam>(r.model->discriminator_parameters(), c.lr, c.beta1, c.beta2);
  r.opt_probes = std::make_unique<Adam>(params_of({r.probe_conv.get(), r.probe_fc.get(), r.probe_y.get()}),
                                        c.probe_lr);
  r.probe_schedule = std::make_unique<MultiStepLR>(*r.opt_probes, c.probe_milestones, 0.1);
  return r;
}

// ---- checkpoints ----

void save_checkpoint(const std::string& path, const Run& r, int64_t epoch, const json& meta) {
  TensorFile f;
  r.model->save_to(f);
  for (auto& [prefix, mod] : r.probes()) nn::save_state(*mod, prefix + ".", f);
  for (auto& [name, opt] : r.optimizers()) {
    for (size_t i = 0; i < opt->params().size(); ++i) {
      f.tensors.emplace_back("optimizer." + name + ".m." + std::to_string(i), opt->first_moments()[i]);
      f.tensors.emplace_back("optimizer." + name + ".v." + std::to_string(i), opt->second_moments()[i]);
    }
    f.metadata["optimizer." + name + ".steps"] = std::to_string(opt->steps());
  }
  f.metadata["epoch"] = std::to_string(epoch);
  f.metadata["config"] = meta.dump();
  save_safetensors(path, f);
}

// The fields of two JSON objects that differ, as "name (checkpoint X, now Y)".
std::string differing_fields(const json& saved, const json& now) {
  std::string out;
  for (auto it = now.begin(); it != now.end(); ++it) {
    const json was = saved.contains(it.key()) ? saved.at(it.key()) : json();
    if (was != it.value())
      out += (out.empty() ? "" : ", ") + it.key() + " (checkpoint " + was.dump() + ", now " + it.value().dump() + ")";
  }
  return out;
}

int64_t load_checkpoint(const std::string& path, Run& r, const json& meta) {
  const TensorFile f = load_safetensors(path);
  const auto cfg = f.metadata.find("config");
  check(cfg != f.metadata.end(), "resume", path + " is not a dim-train checkpoint (no config)");
  json saved;
  try {
    saved = json::parse(cfg->second);
  } catch (const std::exception& e) {
    fail("resume", path + ": unreadable config metadata: " + e.what());
  }
  const std::string diff = differing_fields(saved, meta);
  check(diff.empty(), "resume", path + " was written by a run with other settings: " + diff);
  nn::load_state(*r.model, f, "", path);
  for (auto& [prefix, mod] : r.probes()) nn::load_state(*mod, f, prefix + ".", path);
  for (auto& [name, opt] : r.optimizers()) {
    for (size_t i = 0; i < opt->params().size(); ++i) {
      nn::load_tensor(f, path, "optimizer." + name + ".m." + std::to_string(i), opt->first_moments()[i]);
      nn::load_tensor(f, path, "optimizer." + name + ".v." + std::to_string(i), opt->second_moments()[i]);
    }
    auto it = f.metadata.find("optimizer." + name + ".steps");
    check(it != f.metadata.end(), "resume", path + " lacks the step count of optimizer " + name);
    opt->set_steps(std::stoll(it->second));
  }
  auto e = f.metadata.find("epoch");
  check(e != f.metadata.end(), "resume", path + " has no epoch in its metadata");
  return std::stoll(e->second);
}

// ---- one epoch ----

void require_finite(double v, const std::string& what, int64_t epoch, long step) {
  if (!std::isfinite(v))
    throw Error("dim-train: the " + what + " term is " + std::to_string(v) + " at epoch " + std::to_string(epoch) +
                ", step " + std::to_string(step) +
                "; stopping (the last checkpoint is intact; lower --lr or try another estimator)");
}

// Adds each term's value to `sums` (checking it is finite); returns the weighted total.
double record_terms(const dim::Objective& o, std::map<std::string, double>& sums, int64_t epoch, long step) {
  double total = 0;
  for (const auto& t : o.terms()) {
    const double v = t.value.item();
    require_finite(v, t.name, epoch, step);
    sums[t.name] += v;
    total += t.weight * v;
  }
  return total;
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

double probe_step(Run& r, const models::EncoderOutput& out, const std::vector<int32_t>& labels) {
  std::vector<int32_t> kept;
  const Tensor conv = labeled_rows(flatten(out.conv.detach()), labels, kept);
  if (kept.empty()) return 0;
  const Tensor fc = labeled_rows(out.fc.detach(), labels, kept);
  const Tensor y = labeled_rows(out.y.detach(), labels, kept);
  r.opt_probes->zero_grad();
  Tensor loss = add(add(cross_entropy(r.probe_conv->forward(conv), kept), cross_entropy(r.probe_fc->forward(fc), kept)),
                    cross_entropy(r.probe_y->forward(y), kept));
  const double value = loss.item();
  loss.backward();
  r.opt_probes->step();
  return value;
}

double train_epoch(const Config& c, Run& r, data::Loader& loader, int64_t epoch, EpochResult& res) {
  r.model->train();
  for (auto& [name, p] : r.probes()) p->train();
  const long steps = static_cast<long>(loader.batches_per_epoch());
  tools::Progress progress("epoch " + std::to_string(epoch) + "/" + std::to_string(c.epochs), steps,
                           c.progress_seconds);
  double images = 0, loss_sum = 0;
  long step = 0;
  while (auto batch = loader.next()) {
    const Tensor x = images_to_tensor(*batch, c.device);
    // The step index of the whole run selects the prior samples and occlusion squares.
    const uint64_t global_step = static_cast<uint64_t>((epoch - 1) * steps + step);

    r.opt_encoder->zero_grad();
    auto enc = r.model->encoder_loss(x, global_step);
    const double total = record_terms(enc.objective, res.terms, epoch, step);
    enc.objective.total().backward();
    r.opt_encoder->step();

    if (r.model->has_discriminator()) {
      r.opt_prior->zero_grad();  // drop what the encoder's prior term left in D
      const dim::Objective d = r.model->discriminator_loss(enc.features.y, global_step);
      record_terms(d, res.terms, epoch, step);
      d.total().backward();
      r.opt_prior->step();
    }
    res.terms["probes"] += probe_step(r, enc.features, batch->labels);

    if (step == 0) res.first_loss = total;
    loss_sum += total;
    images += batch->n;
    ++step;
    std::string extra = "loss " + std::to_string(loss_sum / step).substr(0, 7);
    for (auto& [name, sum] : res.terms) extra += " " + name + " " + std::to_string(sum / step).substr(0, 7);
    progress.update(step, images, extra);
  }
  if (step)
    for (auto& [name, sum] : res.terms) sum /= step;
  res.loss = step ? loss_sum / step : 0;
  return images / std::max(progress.elapsed(), 1e-9);
}

// Test accuracy of the three probes.
void evaluate(const Config& c, Run& r, data::Loader& loader, EpochResult& res) {
  NoGrad no_grad;
  r.model->eval();
  for (auto& [name, p] : r.probes()) p->eval();
  int64_t correct[3] = {0, 0, 0}, total = 0;
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
    models::EncoderOutput out = r.model->encoder().forward(images_to_tensor(*batch, c.device));
    count(r.probe_conv->forward(flatten(out.conv)), batch->labels, correct[0]);
    count(r.probe_fc->forward(out.fc), batch->labels, correct[1]);
    count(r.probe_y->forward(out.y), batch->labels, correct[2]);
    total += batch->n;
  }
  check(total > 0, "dim-train", "the test split has no images to evaluate the probes on");
  res.acc_conv = static_cast<double>(correct[0]) / total;
  res.acc_fc = static_cast<double>(correct[1]) / total;
  res.acc_y = static_cast<double>(correct[2]) / total;
}

void append_metrics(const std::string& path, const EpochResult& r) {
  std::ofstream out(path, std::ios::app);
  out << json{{"epoch", r.epoch},           {"loss", r.loss},     {"first_loss", r.first_loss},
              {"terms", r.terms},           {"acc_conv", r.acc_conv}, {"acc_fc", r.acc_fc},
              {"acc_y", r.acc_y},           {"images_per_second", r.images_per_second}}
             .dump()
      << "\n";
  if (!out) throw Error(path + ": cannot append metrics (disk full?)");
}

// The training images: STL-10 trains DIM on train + unlabeled (105,000 images), as the
// reference does; the probes use the labelled images only.
data::Dataset training_images(const data::Splits& s, const data::DatasetSpec& spec) {
  data::Dataset train = s.train;
  if (spec.kind == "stl10" && s.unlabeled) train.append(*s.unlabeled);
  return train;
}

}  // namespace

std::string checkpoint_path(const std::string& out_dir) {
  return (std::filesystem::path(out_dir) / "checkpoint.safetensors").string();
}

data::Dataset first_images(const data::Dataset& d, int64_t n) {
  if (n <= 0 || static_cast<size_t>(n) >= d.size()) return d;
  check(!d.is_encoded(), "first_images", d.name + ": cannot cut a data set of undecoded images");
  data::Dataset out = d;
  out.labels.resize(n);
  out.pixels.resize(n * d.image_bytes());
  return out;
}

CheckpointInfo checkpoint_info(const std::string& path) {
  const TensorFile f = load_safetensors(path);
  CheckpointInfo info;
  const auto cfg = f.metadata.find("config");
  check(cfg != f.metadata.end(), "dim-train checkpoint", path + " is not a dim-train checkpoint (no config)");
  try {
    info.data = json::parse(cfg->second).value("data", "");
  } catch (const std::exception& e) {
    fail("dim-train checkpoint", path + ": unreadable config metadata: " + e.what());
  }
  const auto e = f.metadata.find("epoch");
  info.epoch = e == f.metadata.end() ? 0 : std::stoll(e->second);
  return info;
}

std::vector<EpochResult> run(const Config& config) {
  Config c = config;
  c.model.validate();  // before any data is read
  check(c.epochs >= 1 && c.batch >= 2, "dim-train", "need --epochs >= 1 and --batch >= 2");
  check(c.lr > 0 && c.probe_lr > 0, "dim-train", "--lr and --probe-lr must be > 0");
  if (c.device == Device::CUDA)
    check(cuda_backend_available(), "dim-train", "--device cuda: " + cuda_unavailable_reason());

  const data::DatasetSpec spec = data::parse_spec(c.data);
  data::LoadOptions lo;
  lo.load_unlabeled = spec.kind == "stl10";
  const data::Splits splits = data::load_dataset(c.data, lo);
  const data::Dataset train = first_images(training_images(splits, spec), c.limit_train);
  const data::Dataset test = first_images(splits.test, c.limit_test);
  const int64_t classes = static_cast<int64_t>(train.class_names.size());
  check(classes >= 2, "dim-train", c.data + ": the probes need labelled data with >= 2 classes");
  check(static_cast<int64_t>(train.size()) >= c.batch, "dim-train",
        "--batch " + std::to_string(c.batch) + " is larger than the " + std::to_string(train.size()) +
            " training images");

  data::LoaderOptions train_opts;
  train_opts.batch_size = c.batch;
  train_opts.workers = c.workers;
  train_opts.seed = c.seed;
  if (train.height == 96) train_opts.augment.resize_to = 64, train_opts.augment.hflip = true;
  if (c.device == Device::CUDA)  // page-locked batches, for asynchronous uploads
    train_opts.allocator = std::make_shared<data::PoolAllocator>(std::make_shared<data::PinnedAllocator>());
  data::LoaderOptions test_opts = train_opts;
  test_opts.shuffle = false;
  test_opts.drop_last = false;
  test_opts.augment.hflip = false;
  data::Loader train_loader(train, train_opts), test_loader(test, test_opts);

  c.model.arch = c.arch == "auto" ? models::encoder_for_size(train_loader.out_height()) : c.arch;
  c.model.channels = train_loader.out_channels();
  c.model.seed = c.seed;
  const models::EncoderSpec enc = models::encoder_spec(c.model.arch, c.model.channels);
  check(enc.size == train_loader.out_height() && enc.size == train_loader.out_width(), "dim-train",
        "architecture " + c.model.arch + " expects " + std::to_string(enc.size) + "x" + std::to_string(enc.size) +
            " images, the data gives " + std::to_string(train_loader.out_height()) + "x" +
            std::to_string(train_loader.out_width()));
  if (c.model.local_critic == models::LocalCritic::concat && c.model.concat_negatives > 0)
    check(c.batch % (c.model.concat_negatives + 1) == 0, "dim-train",
          "--batch " + std::to_string(c.batch) + " must be a multiple of --concat-negatives + 1 = " +
              std::to_string(c.model.concat_negatives + 1) + " (images are scored in groups of that size)");
  Run r = build_run(c, classes);

  std::filesystem::create_directories(c.out_dir);
  const std::string ckpt = checkpoint_path(c.out_dir);
  // Everything that shapes the run; a resume must match it.
  const json meta{{"model", json::parse(c.model.to_json())},
                  {"data", c.data},
                  {"classes", classes},
                  {"batch", c.batch},
                  {"lr", c.lr},
                  {"beta1", c.beta1},
                  {"beta2", c.beta2},
                  {"probe_lr", c.probe_lr},
                  {"probe_milestones", c.probe_milestones},
                  {"limit_train", c.limit_train}};
  int64_t start = 0;
  if (c.resume) {
    check(std::filesystem::exists(ckpt), "dim-train", "--resume: no checkpoint at " + ckpt);
    start = load_checkpoint(ckpt, r, meta);
    std::printf("resumed from %s after epoch %lld\n", ckpt.c_str(), static_cast<long long>(start));
  }
  std::string objective;
  for (auto [name, w] : {std::pair{"alpha", c.model.alpha}, {"beta", c.model.beta}, {"gamma", c.model.gamma},
                         {"coord", c.model.coord}})
    objective += std::string(objective.empty() ? "" : " ") + name + "=" + std::to_string(w).substr(0, 5);
  std::printf("dim-train: %s, %zu train / %zu test images, %s encoder, %s estimator, %s local / %s global critic, "
              "%s%s, %s\n",
              c.data.c_str(), train.size(), test.size(), c.model.arch.c_str(),
              std::string(mi::estimator_name(c.model.estimator)).c_str(),
              std::string(models::local_critic_name(c.model.local_critic)).c_str(),
              std::string(models::global_critic_name(c.model.global_critic)).c_str(), objective.c_str(),
              c.model.occlude ? " occlude" : "", device_name(c.device));

  std::vector<EpochResult> results;
  for (int64_t epoch = start + 1; epoch <= c.epochs; ++epoch) {
    r.probe_schedule->set_epoch(epoch - 1);
    EpochResult res;
    res.epoch = epoch;
    res.images_per_second = train_epoch(c, r, train_loader, epoch, res);
    evaluate(c, r, test_loader, res);
    save_checkpoint(ckpt, r, epoch, meta);
    append_metrics((std::filesystem::path(c.out_dir) / "metrics.jsonl").string(), res);
    std::printf("epoch %lld: loss %.4f (first batch %.4f) | probe test accuracy: conv %.2f%%  fc %.2f%%  y %.2f%% | "
                "%.0f img/s\n",
                static_cast<long long>(epoch), res.loss, res.first_loss, 100 * res.acc_conv, 100 * res.acc_fc,
                100 * res.acc_y, res.images_per_second);
    results.push_back(res);
  }
  return results;
}

}  // namespace imx::train
