// Names, parsing and problem validation.
#include <omp.h>

#include <limits>
#include <sstream>
#include <stdexcept>

#include "losses/mi/mi.h"

namespace imx::mi {

std::string_view estimator_name(Estimator e) {
  switch (e) {
    case Estimator::jsd: return "jsd";
    case Estimator::gan: return "gan";
    case Estimator::kl: return "kl";
    case Estimator::rkl: return "rkl";
    case Estimator::h2: return "h2";
    case Estimator::x2: return "x2";
    case Estimator::w1: return "w1";
    case Estimator::dv: return "dv";
    case Estimator::infonce: return "infonce";
    case Estimator::infonce_exact: return "infonce-exact";
  }
  throw std::invalid_argument("mi: unknown Estimator value " + std::to_string(static_cast<int>(e)));
}

std::string estimator_names() {
  std::string out;
  for (Estimator e : kAllEstimators) {
    if (!out.empty()) out += ", ";
    out += estimator_name(e);
  }
  return out;
}

Estimator parse_estimator(std::string_view name) {
  for (Estimator e : kAllEstimators)
    if (estimator_name(e) == name) return e;
  throw std::invalid_argument("mi: unknown estimator '" + std::string(name) +
                              "'; expected one of: " + estimator_names());
}

bool needs_negatives(Estimator e) { return e != Estimator::infonce; }

bool finite_for_finite_scores(Estimator e) {
  return e != Estimator::kl && e != Estimator::rkl && e != Estimator::h2;
}

std::string_view impl_name(Impl impl) {
  switch (impl) {
    case Impl::naive: return "naive";
    case Impl::unfused: return "unfused";
    case Impl::fused: return "fused";
  }
  throw std::invalid_argument("mi: unknown Impl value " + std::to_string(static_cast<int>(impl)));
}

Impl parse_impl(std::string_view name) {
  for (Impl i : {Impl::naive, Impl::unfused, Impl::fused})
    if (impl_name(i) == name) return i;
  throw std::invalid_argument("mi: unknown implementation '" + std::string(name) +
                              "'; expected one of: fused, unfused, naive");
}

std::string Problem::to_string() const {
  std::ostringstream os;
  os << "B=" << B << " P=" << P << " D=" << D << " K=" << K;
  return os.str();
}

void Problem::validate() const {
  if (B < 1 || P < 1 || D < 1 || K < 1)
    throw std::invalid_argument("mi: every size must be >= 1, got " + to_string());
  // The largest index space any implementation forms is the naive infoNCE logits tensor,
  // (B*K*P) x (1 + B*P); keep it (and so everything else) within int64.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 4;
  auto mul = [&](int64_t a, int64_t b) {
    if (a > kMax / b) throw std::invalid_argument("mi: problem too large for 64-bit indexing: " + to_string());
    return a * b;
  };
  mul(mul(mul(B, K), P), mul(B, P) + 1);
  mul(mul(B, P), D);
  mul(mul(B, K), D);
}

void Problem::validate_for(Estimator e) const {
  validate();
  if (B < 2 && needs_negatives(e))
    throw std::invalid_argument("mi: estimator '" + std::string(estimator_name(e)) +
                                "' needs negative pairs, i.e. at least 2 images, got B=" +
                                std::to_string(B));
}

int resolve_threads(const Options& opt) {
  if (opt.threads < 0)
    throw std::invalid_argument("mi: Options::threads must be >= 0, got " + std::to_string(opt.threads));
  return opt.threads > 0 ? opt.threads : omp_get_max_threads();
}

}  // namespace imx::mi
