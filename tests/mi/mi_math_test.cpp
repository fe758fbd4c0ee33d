// The vectorizable exp / log1p / softplus / sigmoid of losses/mi/math.h against the standard
// library, over the whole range including overflow, underflow and NaN.
#include <catch.hpp>

#include <cmath>
#include <limits>

#include "losses/mi/math.h"

namespace math = imx::mi::math;

namespace {

template <class T>
double rel(T x, T ref) {
  return ref == 0 ? std::abs(double(x)) : std::abs(double(x) - double(ref)) / std::abs(double(ref));
}

// Largest relative error of f against ref over n points spread evenly on [lo, hi].
template <class T, class F, class G>
double max_rel_error(F f, G ref, T lo, T hi, int n) {
  double worst = 0;
  for (int i = 0; i <= n; ++i) {
    const T x = lo + (hi - lo) * T(i) / T(n);
    const T want = ref(x);
    if (std::abs(want) < std::numeric_limits<T>::min()) continue;  // subnormal: see below
    worst = std::max(worst, rel(f(x), want));
  }
  return worst;
}

}  // namespace

TEST_CASE("exp matches std::exp to a few ulp over the normal range", "[mi][math]") {
  const auto f32 = [](float x) { return math::exp(x); };
  const auto f64 = [](double x) { return math::exp(x); };
  CHECK(max_rel_error<float>(f32, [](float x) { return std::exp(x); }, -87.0f, 88.7f, 200001) < 3e-7);
  CHECK(max_rel_error<double>(f64, [](double x) { return std::exp(x); }, -708.0, 709.7, 200001) < 5e-16);
  CHECK(max_rel_error<double>(f64, [](double x) { return std::exp(x); }, -1.0, 1.0, 100001) < 5e-16);
}

TEST_CASE("exp overflows to inf, underflows to 0 and keeps NaN", "[mi][math]") {
  const float finf = std::numeric_limits<float>::infinity();
  const double dinf = std::numeric_limits<double>::infinity();
  CHECK(math::exp(89.0f) == finf);
  CHECK(math::exp(150.0f) == finf);
  CHECK(math::exp(finf) == finf);
  CHECK(math::exp(-150.0f) == 0.0f);
  CHECK(math::exp(-finf) == 0.0f);
  CHECK(math::exp(710.0) == dinf);
  CHECK(math::exp(-800.0) == 0.0);
  CHECK(std::isnan(math::exp(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isnan(math::exp(std::numeric_limits<double>::quiet_NaN())));
  // Gradual underflow: subnormal results stay close to the true value.
  CHECK(math::exp(-100.0f) == Approx(std::exp(-100.0f)).epsilon(1e-2));
  CHECK(math::exp(-740.0) == Approx(std::exp(-740.0)).epsilon(1e-2));
  CHECK(math::exp(88.5f) == Approx(std::exp(88.5f)).epsilon(1e-6));
}

TEST_CASE("log1p on [0, 1], softplus and sigmoid", "[mi][math]") {
  CHECK(max_rel_error<float>([](float u) { return math::log1p_unit(u); }, [](float u) { return std::log1p(u); },
                             1e-30f, 1.0f, 100001) < 3e-7);
  CHECK(max_rel_error<double>([](double u) { return math::log1p_unit(u); }, [](double u) { return std::log1p(u); },
                              1e-300, 1.0, 100001) < 5e-16);
  for (double x : {-800.0, -150.0, -30.0, -1.0, 0.0, 0.5, 20.0, 150.0, 800.0}) {
    INFO("x = " << x);
    const double sp = x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    CHECK(rel(math::softplus(x), sp) < 1e-15);
    CHECK(std::isfinite(math::softplus(float(x))));
    if (std::abs(x) < 100) CHECK(rel(math::softplus(float(x)), float(sp)) < 3e-7);
    const double sg = 1 / (1 + std::exp(-x));
    CHECK(rel(math::sigmoid(x), sg) < 1e-15);
    CHECK(std::isfinite(math::sigmoid(float(x))));
    if (std::abs(x) < 80) CHECK(rel(math::sigmoid(float(x)), float(sg)) < 3e-7);
  }
}
