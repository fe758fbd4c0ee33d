// Maps the runtime Estimator to its compile-time piece of terms.h, so each kernel is written once
// as a template over the estimator.
#pragma once
#include <stdexcept>
#include <string>

#include "losses/mi/mi.h"
#include "losses/mi/terms.h"

namespace imx::mi {

template <class F>
decltype(auto) visit_estimator(Estimator e, F&& f) {
  switch (e) {
    case Estimator::jsd: return f(terms::Jsd{});
    case Estimator::gan: return f(terms::Gan{});
    case Estimator::kl: return f(terms::Kl{});
    case Estimator::rkl: return f(terms::Rkl{});
    case Estimator::h2: return f(terms::H2{});
    case Estimator::x2: return f(terms::X2{});
    case Estimator::w1: return f(terms::W1{});
    case Estimator::dv: return f(terms::Dv{});
    case Estimator::infonce: return f(terms::InfoNce{});
    case Estimator::infonce_exact: return f(terms::InfoNceExact{});
  }
  throw std::invalid_argument("mi: unknown Estimator value " + std::to_string(static_cast<int>(e)));
}

}  // namespace imx::mi
