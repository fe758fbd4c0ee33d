// dim-gradcheck's cases for DIM's critics, heads and objectives (models/, losses/dim/): small
// float64 instances, each checked with respect to its input features and its parameters (the
// map reducer's convolutions are reached through the local map; their own weights are checked
// by the engine's conv2d cases).
#include <memory>

#include "engine/random.h"
#include "losses/dim/dim_losses.h"
#include "losses/dim/objective.h"
#include "losses/dim/score_losses.h"
#include "models/concat_critics.h"
#include "models/critics.h"
#include "tools/gradcheck/gradcheck.h"

namespace imx::gradcheck {

namespace {

using Inputs = std::vector<Tensor>;
constexpr int64_t kN = 4, kC = 3, kM = 2, kY = 5, kUnits = 6;
// The prior discriminator's widths are fixed (1000, 200): its 200,000-entry middle weight is left
// out of the finite differences (minutes), the layers on both sides of it are checked.
constexpr const char* kSkipWide = "l2.weight";

Tensor features(const Shape& s, uint64_t seed) {
  Generator gen(seed);
  return uniform(s, -1, 1, gen, DType::F64).set_requires_grad(true);
}

// The module's parameters (except those under `skip`), converted to float64, plus a local map
// [kN, kC, kM, kM] and Y [kN, kY] as the last two inputs.
template <class M>
Inputs module_inputs(M& m, uint64_t seed, const std::string& skip = "") {
  m.to(DType::F64);
  Inputs in;
  for (auto& [name, p] : m.named_parameters()) {
    p.zero_grad();
    if (skip.empty() || name.rfind(skip, 0) != 0) in.push_back(p);
  }
  in.push_back(features({kN, kC, kM, kM}, seed));
  in.push_back(features({kN, kY}, seed + 1));
  return in;
}

const Tensor& local_of(const Inputs& in) { return in[in.size() - 2]; }
const Tensor& y_of(const Inputs& in) { return in.back(); }

template <class M, class... A>
std::shared_ptr<M> make(uint64_t seed, A... args) {
  Generator gen(seed);
  return std::make_shared<M>(args..., gen);
}

void add(std::vector<Case>& cs, std::string op, std::function<Inputs()> in, std::function<Tensor(const Inputs&)> f) {
  const std::string shape = "N=" + std::to_string(kN) + " C=" + std::to_string(kC) + " M=" + std::to_string(kM) +
                            " Y=" + std::to_string(kY) + " units=" + std::to_string(kUnits);
  cs.push_back(Case{std::move(op), shape, std::move(in), std::move(f)});
}

}  // namespace

std::vector<Case> model_cases() {
  std::vector<Case> cs;
  for (mi::Estimator e : {mi::Estimator::jsd, mi::Estimator::dv, mi::Estimator::infonce}) {
    const std::string est(mi::estimator_name(e));
    auto dot = make<models::DotCritic>(11, kC, kY, kUnits);
    add(cs, "dot local critic + " + est, [dot] { return module_inputs(*dot, 1); },
        [dot, e](const Inputs& in) { return mi_loss(dot->encode_local(local_of(in)), dot->encode_global(y_of(in)), e); });
    auto concat = make<models::ConcatLocalCritic>(12, kC, kY, kUnits);
    add(cs, "concat local critic + " + est, [concat] { return module_inputs(*concat, 3); },
        [concat, e](const Inputs& in) { return mi_loss_from_scores(concat->scores(local_of(in), y_of(in)), kN, 1, e); });
    auto gdot = make<models::GlobalDotCritic>(13, kC, kM, kY, kUnits);
    add(cs, "dot global critic + " + est, [gdot] { return module_inputs(*gdot, 5, "reducer."); },
        [gdot, e](const Inputs& in) { return mi_loss(gdot->encode_map(local_of(in)), gdot->encode_global(y_of(in)), e); });
    auto gcat = make<models::GlobalConcatCritic>(14, kC, kM, kY, kUnits);
    add(cs, "concat global critic + " + est, [gcat] { return module_inputs(*gcat, 7, "reducer."); },
        [gcat, e](const Inputs& in) { return mi_loss_from_scores(gcat->scores(local_of(in), y_of(in)), kN, 1, e); });
  }
  auto coord = make<models::CoordinatePredictor>(15, kC, kM, kY, kUnits);
  add(cs, "coordinate head loss", [coord] { return module_inputs(*coord, 9); },
      [coord](const Inputs& in) { return coord->loss(local_of(in), y_of(in)); });
  auto prior = make<models::PriorDiscriminator>(16, kY);
  add(cs, "prior encoder term", [prior] { return module_inputs(*prior, 11, kSkipWide); },
      [prior](const Inputs& in) { return prior_encoder_loss(prior->forward(sigmoid(y_of(in)))); });
  add(cs, "prior discriminator loss", [prior] {
        Inputs in = module_inputs(*prior, 13, kSkipWide);
        in[in.size() - 2] = features({kN, kY}, 14);  // a prior sample in place of the local map
        return in;
      },
      [prior](const Inputs& in) {
        return prior_discriminator_loss(prior->forward(local_of(in)), prior->forward(sigmoid(y_of(in))));
      });
  return cs;
}

std::vector<Case> model_second_order_cases() {
  std::vector<Case> cs;
  // The discriminator's gradient penalty, with respect to D's weights and biases: its
  // gradient needs the second-order rules of linear, relu, sum, square and mean.
  auto prior = make<models::PriorDiscriminator>(17, kY);
  add(cs, "prior gradient penalty", [prior] {
        Inputs in = module_inputs(*prior, 15, kSkipWide);
        in.pop_back();
        in.pop_back();
        Generator gen(99);
        in.push_back(uniform({kN, kY}, 0, 1, gen, DType::F64));  // a prior sample (no gradient)
        return in;
      },
      [prior](const Inputs& in) {
        return dim::gradient_penalty([prior](const Tensor& z) { return prior->forward(z); }, in.back());
      });
  return cs;
}

}  // namespace imx::gradcheck
