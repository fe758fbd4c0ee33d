#include "tools/gradcheck/gradcheck.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/random.h"

namespace imx::gradcheck {

namespace {

// <w, f(x)> in float64, evaluated without recording.
double weighted_output(const Case& c, const std::vector<Tensor>& xs, const std::vector<double>& w) {
  NoGrad no_grad;
  const std::vector<double> y = c.forward(xs).to_vector();
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += w[i] * y[i];
  return s;
}

}  // namespace

Result check(const Case& c, const Options& opt) {
  Result r;
  r.op = c.op;
  r.shape = c.shape;
  try {
    std::vector<Tensor> xs = c.inputs();
    Tensor y = c.forward(xs);
    Generator gen(0x5eed);
    const Tensor w = uniform(y.shape(), -1.0, 1.0, gen, DType::F64);
    const std::vector<double> wv = w.to_vector();
    sum(mul(y, w)).backward();

    double worst_ratio = 0;
    for (auto& x : xs) {
      if (!x.requires_grad()) continue;
      const Tensor g = x.grad();
      const std::vector<double> analytic =
          g.defined() ? g.to_vector() : std::vector<double>(x.numel(), 0.0);
      double* p = x.data<double>();
      for (int64_t i = 0; i < x.numel(); ++i) {
        const double saved = p[i];
        p[i] = saved + opt.step;
        const double up = weighted_output(c, xs, wv);
        p[i] = saved - opt.step;
        const double down = weighted_output(c, xs, wv);
        p[i] = saved;
        const double numeric = (up - down) / (2 * opt.step);
        const double err = std::abs(analytic[i] - numeric);
        const double scale = std::max(1.0, std::abs(numeric));
        r.max_abs_err = std::max(r.max_abs_err, err);
        r.max_rel_err = std::max(r.max_rel_err, err / std::max({std::abs(numeric), std::abs(analytic[i]), 1e-8}));
        worst_ratio = std::max(worst_ratio, err / scale);
      }
    }
    r.pass = worst_ratio <= opt.tol;
  } catch (const std::exception& e) {
    r.error = e.what();
    r.pass = false;
  }
  return r;
}

}  // namespace imx::gradcheck
