#include "tools/train/run_state.h"

#include "engine/nn/state.h"
#include "tools/train/errors.h"

namespace imx::train {

using json = nlohmann::json;

std::vector<std::pair<std::string, nn::Module*>> Run::probes() const {
  return {{"probe_conv", probe_conv.get()}, {"probe_fc", probe_fc.get()}, {"probe_y", probe_y.get()}};
}

std::vector<std::pair<std::string, Adam*>> Run::optimizers() const {
  std::vector<std::pair<std::string, Adam*>> o{{"encoder", opt_encoder.get()}, {"probes", opt_probes.get()}};
  if (opt_prior) o.emplace_back("prior", opt_prior.get());
  return o;
}

Run build_run(const Config& c, int64_t classes) {
  Run r;
  r.model = std::make_shared<models::DeepInfoMax>(c.model);
  const models::Encoder& enc = r.model->encoder();
  Generator gen(c.seed + 0x70726f6265ull);  // the probes' own stream: the model's init is unchanged by them
  r.probe_conv = std::make_shared<models::Probe>(enc.conv_features(), classes, gen, c.seed + 11);
  r.probe_fc = std::make_shared<models::Probe>(enc.fc_features(), classes, gen, c.seed + 12);
  r.probe_y = std::make_shared<models::Probe>(enc.spec().y_dim, classes, gen, c.seed + 13);
  r.model->to(c.device);
  std::vector<Tensor> probe_params;
  for (auto& [name, p] : r.probes()) {
    p->to(c.device);
    for (auto& t : p->parameters()) probe_params.push_back(t);
  }
  r.opt_encoder = std::make_unique<Adam>(r.model->encoder_parameters(), c.lr, c.beta1, c.beta2);
  if (r.model->has_discriminator())
    r.opt_prior = std::make_unique<Adam>(r.model->discriminator_parameters(), c.lr, c.beta1, c.beta2);
  r.opt_probes = std::make_unique<Adam>(probe_params, c.probe_lr);
  r.probe_schedule = std::make_unique<MultiStepLR>(*r.opt_probes, c.probe_milestones, 0.1);
  return r;
}

// ---- epoch sums ----

void EpochSums::add(const std::map<std::string, double>& terms, double total, int64_t n, double step_seconds) {
  for (const auto& [name, v] : terms) term_sums[name] += v;
  totals.push_back(total);
  images += static_cast<double>(n);
  seconds += step_seconds;
}

double EpochSums::mean_loss() const {
  double s = 0;
  for (double t : totals) s += t;
  return totals.empty() ? 0 : s / static_cast<double>(totals.size());
}

std::map<std::string, double> EpochSums::means() const {
  std::map<std::string, double> m;
  for (const auto& [name, s] : term_sums) m[name] = s / static_cast<double>(std::max<size_t>(1, totals.size()));
  return m;
}

EpochResult EpochSums::result(int64_t epoch) const {
  EpochResult r;
  r.epoch = epoch;
  r.terms = means();
  r.loss = mean_loss();
  const size_t w = std::min<size_t>(10, totals.size());
  for (size_t i = 0; i < w; ++i) {
    r.first_loss += totals[i] / static_cast<double>(w);
    r.last_loss += totals[totals.size() - w + i] / static_cast<double>(w);
  }
  r.images_per_second = seconds > 0 ? images / seconds : 0;
  return r;
}

json EpochSums::to_json() const {
  return {{"term_sums", term_sums}, {"totals", totals}, {"images", images}, {"seconds", seconds}};
}

EpochSums EpochSums::from_json(const json& j) {
  EpochSums s;
  s.term_sums = j.at("term_sums").get<std::map<std::string, double>>();
  s.totals = j.at("totals").get<std::vector<double>>();
  s.images = j.at("images").get<double>();
  s.seconds = j.at("seconds").get<double>();
  return s;
}

// ---- settings ----

json run_settings(const Config& c, int64_t classes, int64_t steps_per_epoch, int ranks, dist::Negatives negatives) {
  const bool local = ranks > 1 && negatives == dist::Negatives::local;
  return {{"model", json::parse(c.model.to_json())},
          {"steps_per_epoch", steps_per_epoch},
          {"data", c.data},
          {"classes", classes},
          {"batch", c.batch * ranks},
          {"negatives", local ? "local" : "global"},
          {"sync_bn", c.sync_bn},
          {"lr", c.lr},
          {"beta1", c.beta1},
          {"beta2", c.beta2},
          {"probe_lr", c.probe_lr},
          {"probe_milestones", c.probe_milestones},
          {"limit_train", c.limit_train}};
}

json run_settings_of(const TensorFile& f, const std::string& path) {
  const auto cfg = f.metadata.find("config");
  if (cfg == f.metadata.end()) throw InputError(path + " is not a dim-train checkpoint (no config metadata)");
  try {
    return json::parse(cfg->second);
  } catch (const std::exception& e) {
    throw InputError(path + ": unreadable config metadata: " + e.what());
  }
}

namespace {

// The fields of two settings objects that differ, as "name (checkpoint X, now Y)"; nested
// objects (the model) are compared field by field.
void differing_fields(const json& saved, const json& now, const std::string& prefix, std::string& out) {
  for (auto it = now.begin(); it != now.end(); ++it) {
    const json was = saved.contains(it.key()) ? saved.at(it.key()) : json();
    if (was.is_object() && it.value().is_object()) {
      differing_fields(was, it.value(), prefix + it.key() + ".", out);
    } else if (was != it.value()) {
      out += (out.empty() ? "" : ", ") + prefix + it.key() + " (checkpoint " + was.dump() + ", now " +
             it.value().dump() + ")";
    }
  }
}

std::string metadata(const TensorFile& f, const std::string& path, const std::string& key) {
  const auto it = f.metadata.find(key);
  if (it == f.metadata.end()) throw InputError(path + " lacks '" + key + "' in its metadata (not a complete checkpoint)");
  return it->second;
}

}  // namespace

void save_checkpoint(const std::string& path, const Run& r, const RunProgress& p, const json& settings) {
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
  f.metadata["step"] = std::to_string(p.step);
  f.metadata["epoch"] = std::to_string(p.step / settings.at("steps_per_epoch").get<int64_t>());  // epochs completed
  f.metadata["wall_seconds"] = json(p.wall_seconds).dump();
  f.metadata["epoch_sums"] = p.epoch.to_json().dump();
  f.metadata["config"] = settings.dump();
  save_safetensors(path, f);
}

RunProgress load_checkpoint(const std::string& path, Run& r, const json& settings) {
  TensorFile f;
  try {
    f = load_safetensors(path);
  } catch (const std::exception& e) {
    throw InputError(e.what());
  }
  const json saved = run_settings_of(f, path);
  std::string diff;
  differing_fields(saved, settings, "", diff);
  if (!diff.empty()) throw UsageError("dim-train: --resume: " + path + " was written with other settings: " + diff);
  RunProgress p;
  try {
    nn::load_state(*r.model, f, "", path);
    for (auto& [prefix, mod] : r.probes()) nn::load_state(*mod, f, prefix + ".", path);
    for (auto& [name, opt] : r.optimizers()) {
      for (size_t i = 0; i < opt->params().size(); ++i) {
        nn::load_tensor(f, path, "optimizer." + name + ".m." + std::to_string(i), opt->first_moments()[i]);
        nn::load_tensor(f, path, "optimizer." + name + ".v." + std::to_string(i), opt->second_moments()[i]);
      }
      opt->set_steps(std::stoll(metadata(f, path, "optimizer." + name + ".steps")));
    }
    p.step = std::stoll(metadata(f, path, "step"));
    p.wall_seconds = json::parse(metadata(f, path, "wall_seconds")).get<double>();
    p.epoch = EpochSums::from_json(json::parse(metadata(f, path, "epoch_sums")));
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(std::string(e.what()).find(path) == std::string::npos ? path + ": " + e.what() : e.what());
  }
  return p;
}

}  // namespace imx::train
