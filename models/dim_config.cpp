#include "models/dim_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/core.h"

namespace imx::models {

namespace {
using json = nlohmann::json;

void require(bool ok, const std::string& what) { check(ok, "dim config", what); }

bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0; }
}  // namespace

void DimConfig::validate() const {
  require(finite_nonneg(alpha), "--alpha must be a finite value >= 0, got " + std::to_string(alpha));
  require(finite_nonneg(beta), "--beta must be a finite value >= 0, got " + std::to_string(beta));
  require(finite_nonneg(gamma), "--gamma must be a finite value >= 0, got " + std::to_string(gamma));
  require(finite_nonneg(coord), "--coord must be a finite value >= 0, got " + std::to_string(coord));
  require(finite_nonneg(penalty), "--penalty must be a finite value >= 0, got " + std::to_string(penalty));
  require(alpha > 0 || beta > 0,
          "--alpha and --beta are both 0: no mutual-information objective is left to train the encoder");
  require(mi_units >= 1, "--mi-units must be >= 1, got " + std::to_string(mi_units));
  require(concat_units >= 1, "--concat-units must be >= 1, got " + std::to_string(concat_units));
  require(concat_negatives >= 0, "--concat-negatives must be >= 0, got " + std::to_string(concat_negatives));
  require(concat_negatives == 0 || (local_critic == LocalCritic::concat && beta > 0),
          "--concat-negatives applies to the concat local critic only (--local-critic concat with --beta > 0)");
  require(channels >= 0, "--channels must be >= 0");
  if (occlude) {
    require(alpha > 0 || beta > 0, "--occlude needs an MI objective");
    occlusion.validate();
  }
}

std::string DimConfig::to_json() const {
  return json{{"arch", arch},
              {"channels", channels},
              {"estimator", std::string(mi::estimator_name(estimator))},
              {"alpha", alpha},
              {"beta", beta},
              {"gamma", gamma},
              {"coord", coord},
              {"local_critic", std::string(local_critic_name(local_critic))},
              {"global_critic", std::string(global_critic_name(global_critic))},
              {"mi_units", mi_units},
              {"concat_units", concat_units},
              {"concat_negatives", concat_negatives},
              {"penalty", penalty},
              {"occlude", occlude},
              {"occlusion", {{"probability", occlusion.probability}, {"size", occlusion.size}, {"fill", occlusion.fill}}},
              {"seed", seed}}
      .dump();
}

DimConfig DimConfig::from_json(const std::string& text) {
  try {
    const json j = json::parse(text);
    DimConfig c;
    c.arch = j.at("arch").get<std::string>();
    c.channels = j.at("channels").get<int64_t>();
    c.estimator = mi::parse_estimator(j.at("estimator").get<std::string>());
    c.alpha = j.at("alpha").get<double>();
    c.beta = j.at("beta").get<double>();
    c.gamma = j.at("gamma").get<double>();
    c.coord = j.at("coord").get<double>();
    c.local_critic = parse_local_critic(j.at("local_critic").get<std::string>());
    c.global_critic = parse_global_critic(j.at("global_critic").get<std::string>());
    c.mi_units = j.at("mi_units").get<int64_t>();
    c.concat_units = j.at("concat_units").get<int64_t>();
    c.concat_negatives = j.at("concat_negatives").get<int64_t>();
    c.penalty = j.at("penalty").get<double>();
    c.occlude = j.at("occlude").get<bool>();
    const json& o = j.at("occlusion");
    c.occlusion = {o.at("probability").get<double>(), o.at("size").get<double>(), o.at("fill").get<double>()};
    c.seed = j.at("seed").get<uint64_t>();
    return c;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(std::string("dim config: unreadable model settings: ") + e.what());
  }
}

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names{"dim-l", "dim-g", "dim-lg"};
  return names;
}

void apply_preset(DimConfig& c, const std::string& preset) {
  if (preset == "dim-l") {
    c.alpha = 0, c.beta = 1, c.gamma = 0.1;
  } else if (preset == "dim-g") {
    c.alpha = 1, c.beta = 0, c.gamma = 1;
  } else if (preset == "dim-lg") {
    c.alpha = 0.5, c.beta = 1, c.gamma = 0.1;
  } else {
    throw Error("--preset: unknown preset '" + preset + "' (valid: dim-l, dim-g, dim-lg)");
  }
}

std::string_view local_critic_name(LocalCritic c) { return c == LocalCritic::dot ? "dot" : "concat"; }
std::string_view global_critic_name(GlobalCritic c) { return c == GlobalCritic::dot ? "dot" : "concat"; }

LocalCritic parse_local_critic(const std::string& name) {
  if (name == "dot") return LocalCritic::dot;
  if (name == "concat") return LocalCritic::concat;
  throw Error("--local-critic: unknown critic '" + name + "' (valid: dot, concat)");
}

GlobalCritic parse_global_critic(const std::string& name) {
  if (name == "dot") return GlobalCritic::dot;
  if (name == "concat") return GlobalCritic::concat;
  throw Error("--global-critic: unknown critic '" + name + "' (valid: dot, concat)");
}

}  // namespace imx::models
