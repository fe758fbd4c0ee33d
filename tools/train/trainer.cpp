#include "tools/train/trainer.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/autograd.h"
#include "engine/backend.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/safetensors.h"
#include "imx/data/host_allocator.hpp"
#include "imx/data/load.hpp"
#include "imx/data/loader.hpp"
#include "losses/dim/dim_losses.h"
#include "models/critics.h"
#include "models/encoder.h"
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

// Everything that is trained, with its optimizers.
struct Model {
  std::shared_ptr<models::Encoder> encoder;
  std::shared_ptr<models::DotCritic> critic;
  std::shared_ptr<models::PriorDiscriminator> prior;  // null when gamma == 0
  std::shared_ptr<models::Probe> probe_conv, probe_fc, probe_y;
  std::unique_ptr<Adam> opt_encoder, opt_prior, opt_probes;
  std::unique_ptr<MultiStepLR> probe_schedule;

  std::vector<std::pair<std::string, nn::Module*>> modules() const {
    std::vector<std::pair<std::string, nn::Module*>> m{{"encoder", encoder.get()},
                                                       {"critic", critic.get()},
                                                       {"probe_conv", probe_conv.get()},
                                                       {"probe_fc", probe_fc.get()},
                                                       {"probe_y", probe_y.get()}};
    if (prior) m.emplace_back("prior", prior.get());
    return m;
  }
  std::vector<std::pair<std::string, Adam*>> optimizers() const {
    std::vector<std::pair<std::string, Adam*>> o{{"encoder", opt_encoder.get()},
                                                  {"probes", opt_probes.get()}};
    if (opt_prior) o.emplace_back("prior", opt_prior.get());
    return o;
  }
};

std::vector<Tensor> params_of(std::initializer_list<nn::Module*> ms) {
  std::vector<Tensor> out;
  for (auto* m : ms)
    for (auto& p : m->parameters()) out.push_back(p);
  return out;
}

Model build_model(const Config& c, const models::EncoderSpec& spec, int64_t classes) {
  Generator gen(c.seed);
  Model m;
  m.encoder = std::make_shared<models::Encoder>(spec, gen);
  m.critic = std::make_shared<models::DotCritic>(m.encoder->local_channels(), spec.y_dim,
                                                 c.mi_units, gen);
  if (c.gamma > 0) m.prior = std::make_shared<models::PriorDiscriminator>(spec.y_dim, gen);
  m.probe_conv = std::make_shared<models::Probe>(m.encoder->conv_features(), classes, gen, c.seed + 11);
  m.probe_fc = std::make_shared<models::Probe>(m.encoder->fc_features(), classes, gen, c.seed + 12);
  m.probe_y = std::make_shared<models::Probe>(spec.y_dim, classes, gen, c.seed + 13);
  for (auto& [name, mod] : m.modules()) mod->to(c.device);
  m.opt_encoder = std::make_unique<Adam>(params_of({m.encoder.get(), m.critic.get()}), c.lr,
                                         c.beta1, c.beta2);
  if (m.prior) m.opt_prior = std::make_unique<Adam>(m.prior->parameters(), c.lr, c.beta1, c.beta2);
  m.opt_probes = std::make_unique<Adam>(
      params_of({m.probe_conv.get(), m.probe_fc.get(), m.probe_y.get()}), c.probe_lr);
  m.probe_schedule =
      std::make_unique<MultiStepLR>(*m.opt_probes, c.probe_milestones, 0.1);
  return m;
}

// ---- checkpoints ----

void save_checkpoint(const std::string& path, const Model& m, int64_t epoch, const json& meta) {
  TensorFile f;
  for (auto& [prefix, mod] : m.modules()) {
    for (auto& [name, t] : mod->named_parameters()) f.tensors.emplace_back(prefix + "." + name, t);
    for (auto& [name, t] : mod->named_buffers()) f.tensors.emplace_back(prefix + "." + name, t);
  }
  for (auto& [name, opt] : m.optimizers()) {
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

void load_into(const TensorFile& f, const std::string& path, const std::string& name, Tensor t) {
  const Tensor* src = f.find(name);
  check(src != nullptr, "resume", path + " has no tensor '" + name + "' (different model settings?)");
  check(src->shape() == t.shape(), "resume",
        path + ": tensor '" + name + "' is " + shape_str(src->shape()) + ", the model expects " +
            shape_str(t.shape()));
  t.copy_from(*src);
}

int64_t load_checkpoint(const std::string& path, Model& m) {
  const TensorFile f = load_safetensors(path);
  for (auto& [prefix, mod] : m.modules()) {
    for (auto& [name, t] : mod->named_parameters()) load_into(f, path, prefix + "." + name, t);
    for (auto& [name, t] : mod->named_buffers()) load_into(f, path, prefix + "." + name, t);
  }
  for (auto& [name, opt] : m.optimizers()) {
    for (size_t i = 0; i < opt->params().size(); ++i) {
      load_into(f, path, "optimizer." + name + ".m." + std::to_string(i), opt->first_moments()[i]);
      load_into(f, path, "optimizer." + name + ".v." + std::to_string(i), opt->second_moments()[i]);
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

void require_finite(double v, const char* what, int64_t epoch, long step) {
  if (!std::isfinite(v))
    throw Error("dim-train: " + std::string(what) + " is " + std::to_string(v) + " at epoch " +
                std::to_string(epoch) + ", step " + std::to_string(step) +
                "; stopping (the last checkpoint is intact; lower --lr or try another estimator)");
}

double train_epoch(const Config& c, Model& m, data::Loader& loader, int64_t epoch,
                   EpochResult& r) {
  m.encoder->train();
  m.critic->train();
  for (auto* p : {m.probe_conv.get(), m.probe_fc.get(), m.probe_y.get()}) p->train();
  if (m.prior) m.prior->train();
  const long steps = static_cast<long>(loader.batches_per_epoch());
  tools::Progress progress("epoch " + std::to_string(epoch) + "/" + std::to_string(c.epochs),
                           steps, c.progress_seconds);
  double images = 0;
  long step = 0;
  // Prior samples: a stream of their own per epoch, so resumed runs draw the same samples.
  Generator prior_gen((c.seed ^ 0x9e3779b97f4a7c15ull) + static_cast<uint64_t>(epoch) * 0x100000001ull);
  while (auto batch = loader.next()) {
    const Tensor x = images_to_tensor(*batch, c.device);
    const int64_t n = batch->n;

    // Encoder + critic: beta * local MI + gamma * prior term.
    m.opt_encoder->zero_grad();
    models::EncoderOutput out = m.encoder->forward(x);
    Tensor mi = mi_loss(m.critic->encode_local(out.local), m.critic->encode_global(out.y), c.estimator);
    Tensor loss = scale(mi, c.beta);
    double prior_term = 0;
    if (m.prior) {
      Tensor pe = prior_encoder_loss(m.prior->forward(sigmoid(out.y)));
      prior_term = pe.item();
      loss = add(loss, scale(pe, c.gamma));
    }
    const double mi_value = mi.item();
    require_finite(mi_value, "the MI loss", epoch, step);
    require_finite(prior_term, "the prior term", epoch, step);
    loss.backward();
    m.opt_encoder->step();

    // Discriminator: real prior samples against the detached encodings.
    double disc = 0;
    if (m.prior) {
      m.opt_prior->zero_grad();  // drop what the encoder's term left in it
      // A fresh uniform sample per step, from a stream position derived from the step.
      Tensor prior_sample = uniform({n, out.y.size(1)}, 0, 1, prior_gen, DType::F32, c.device);
      Tensor d_loss = prior_discriminator_loss(m.prior->forward(prior_sample),
                                               m.prior->forward(sigmoid(out.y.detach())));
      disc = d_loss.item();
      require_finite(disc, "the discriminator loss", epoch, step);
      d_loss.backward();
      m.opt_prior->step();
    }

    // Probes on detached features.
    m.opt_probes->zero_grad();
    const std::vector<int32_t>& labels = batch->labels;
    Tensor probe_loss = add(add(cross_entropy(m.probe_conv->forward(flatten(out.conv.detach())), labels),
                                cross_entropy(m.probe_fc->forward(out.fc.detach()), labels)),
                            cross_entropy(m.probe_y->forward(out.y.detach()), labels));
    const double pl = probe_loss.item();
    probe_loss.backward();
    m.opt_probes->step();

    r.mi_loss += mi_value;
    r.prior_loss += prior_term;
    r.disc_loss += disc;
    r.probe_loss += pl;
    images += n;
    ++step;
    char extra[160];
    std::snprintf(extra, sizeof extra, "mi %.4f prior %.4f disc %.4f probes %.4f", r.mi_loss / step,
                  r.prior_loss / step, r.disc_loss / step, r.probe_loss / step);
    progress.update(step, images, extra);
  }
  if (step) r.mi_loss /= step, r.prior_loss /= step, r.disc_loss /= step, r.probe_loss /= step;
  return images / std::max(progress.elapsed(), 1e-9);
}

// Test accuracy of the three probes.
void evaluate(const Config& c, Model& m, data::Loader& loader, EpochResult& r) {
  NoGrad no_grad;
  for (nn::Module* mod : {static_cast<nn::Module*>(m.encoder.get()),
                          static_cast<nn::Module*>(m.probe_conv.get()),
                          static_cast<nn::Module*>(m.probe_fc.get()),
                          static_cast<nn::Module*>(m.probe_y.get())})
    mod->eval();
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
    models::EncoderOutput out = m.encoder->forward(images_to_tensor(*batch, c.device));
    count(m.probe_conv->forward(flatten(out.conv)), batch->labels, correct[0]);
    count(m.probe_fc->forward(out.fc), batch->labels, correct[1]);
    count(m.probe_y->forward(out.y), batch->labels, correct[2]);
    total += batch->n;
  }
  check(total > 0, "dim-train", "the test split has no images to evaluate the probes on");
  r.acc_conv = static_cast<double>(correct[0]) / total;
  r.acc_fc = static_cast<double>(correct[1]) / total;
  r.acc_y = static_cast<double>(correct[2]) / total;
}

void append_metrics(const std::string& path, const EpochResult& r) {
  std::ofstream out(path, std::ios::app);
  out << json{{"epoch", r.epoch},         {"mi_loss", r.mi_loss},   {"prior_loss", r.prior_loss},
              {"disc_loss", r.disc_loss}, {"probe_loss", r.probe_loss}, {"acc_conv", r.acc_conv},
              {"acc_fc", r.acc_fc},       {"acc_y", r.acc_y},       {"images_per_second", r.images_per_second}}
             .dump()
      << "\n";
  if (!out) throw Error(path + ": cannot append metrics (disk full?)");
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

TrainedEncoder load_trained_encoder(const std::string& path, Device device) {
  const TensorFile f = load_safetensors(path);
  const auto cfg = f.metadata.find("config");
  check(cfg != f.metadata.end(), "load_trained_encoder", path + " is not a dim-train checkpoint (no config)");
  json meta;
  try {
    meta = json::parse(cfg->second);
  } catch (const std::exception& e) {
    fail("load_trained_encoder", path + ": unreadable config metadata: " + e.what());
  }
  TrainedEncoder t;
  Generator unused(0);
  t.encoder = std::make_shared<models::Encoder>(
      models::encoder_spec(meta.at("arch").get<std::string>(), meta.at("channels").get<int64_t>()), unused);
  for (auto& [name, p] : t.encoder->named_parameters()) load_into(f, path, "encoder." + name, p);
  for (auto& [name, b] : t.encoder->named_buffers()) load_into(f, path, "encoder." + name, b);
  t.encoder->to(device);
  t.encoder->eval();
  t.data = meta.value("data", "");
  t.epoch = std::stoll(f.metadata.count("epoch") ? f.metadata.at("epoch") : "0");
  return t;
}

std::vector<EpochResult> run(const Config& c) {
  check(c.alpha == 0, "dim-train", "--alpha (DIM(G), the global critic) is not implemented yet; use 0");
  check(c.beta > 0, "dim-train", "--beta must be > 0 (the local MI objective is the training signal)");
  check(c.epochs >= 1 && c.batch >= 2, "dim-train", "need --epochs >= 1 and --batch >= 2");
  if (c.device == Device::CUDA)
    check(cuda_backend_available(), "dim-train", "--device cuda: " + cuda_unavailable_reason());

  data::LoadOptions lo;
  lo.load_unlabeled = false;
  const data::Splits splits = data::load_dataset(c.data, lo);
  const data::Dataset train = first_images(splits.train, c.limit_train);
  const data::Dataset test = first_images(splits.test, c.limit_test);
  const int64_t classes = static_cast<int64_t>(train.class_names.size());
  check(classes >= 2, "dim-train", c.data + ": the probes need labelled data with >= 2 classes");

  data::LoaderOptions train_opts;
  train_opts.batch_size = c.batch;
  train_opts.workers = c.workers;
  train_opts.seed = c.seed;
  if (train.height == 96) train_opts.augment.resize_to = 64, train_opts.augment.hflip = true;
  if (c.device == Device::CUDA)  // page-locked batches, for asynchronous uploads
    train_opts.allocator =
        std::make_shared<data::PoolAllocator>(std::make_shared<data::PinnedAllocator>());
  data::LoaderOptions test_opts = train_opts;
  test_opts.shuffle = false;
  test_opts.drop_last = false;
  test_opts.augment.hflip = false;
  data::Loader train_loader(train, train_opts), test_loader(test, test_opts);

  const std::string arch = c.arch == "auto" ? models::encoder_for_size(train_loader.out_height()) : c.arch;
  const models::EncoderSpec spec = models::encoder_spec(arch, train_loader.out_channels());
  check(spec.size == train_loader.out_height() && spec.size == train_loader.out_width(), "dim-train",
        "architecture " + arch + " expects " + std::to_string(spec.size) + "x" +
            std::to_string(spec.size) + " images, the data gives " +
            std::to_string(train_loader.out_height()) + "x" + std::to_string(train_loader.out_width()));
  Model model = build_model(c, spec, classes);

  std::filesystem::create_directories(c.out_dir);
  const std::string ckpt = checkpoint_path(c.out_dir);
  const json meta{{"arch", arch},         {"channels", spec.channels},
                  {"size", spec.size},    {"classes", classes},
                  {"mi_units", c.mi_units}, {"estimator", std::string(mi::estimator_name(c.estimator))},
                  {"data", c.data}};
  int64_t start = 0;
  if (c.resume) {
    check(std::filesystem::exists(ckpt), "dim-train", "--resume: no checkpoint at " + ckpt);
    start = load_checkpoint(ckpt, model);
    std::printf("resumed from %s after epoch %lld\n", ckpt.c_str(), static_cast<long long>(start));
  }
  std::printf("dim-train: %s, %zu train / %zu test images, %s encoder, %s estimator, %s\n",
              c.data.c_str(), train.size(), test.size(), arch.c_str(),
              std::string(mi::estimator_name(c.estimator)).c_str(), device_name(c.device));

  std::vector<EpochResult> results;
  for (int64_t epoch = start + 1; epoch <= c.epochs; ++epoch) {
    model.probe_schedule->set_epoch(epoch - 1);
    EpochResult r;
    r.epoch = epoch;
    r.images_per_second = train_epoch(c, model, train_loader, epoch, r);
    evaluate(c, model, test_loader, r);
    save_checkpoint(ckpt, model, epoch, meta);
    append_metrics((std::filesystem::path(c.out_dir) / "metrics.jsonl").string(), r);
    std::printf("epoch %lld: mi %.4f | probe test accuracy: conv %.2f%%  fc %.2f%%  y %.2f%% | %.0f img/s\n",
                static_cast<long long>(epoch), r.mi_loss, 100 * r.acc_conv, 100 * r.acc_fc,
                100 * r.acc_y, r.images_per_second);
    results.push_back(r);
  }
  return results;
}

}  // namespace imx::train
