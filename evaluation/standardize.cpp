#include "evaluation/standardize.h"

#include <cmath>
#include <vector>

#include "engine/ops.h"

namespace imx::eval {

Standardizer Standardizer::fit(const Tensor& x) {
  check(x.dim() == 2 && x.size(0) > 0, "Standardizer::fit", "needs a non-empty [N, F] matrix, got " + x.describe());
  const Tensor cpu = x.to(Device::CPU).to(DType::F32);
  const int64_t n = cpu.size(0), f = cpu.size(1);
  std::vector<double> sum(f, 0.0), sq(f, 0.0);
  const float* p = cpu.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) {
      const double v = p[i * f + j];
      sum[j] += v;
      sq[j] += v * v;
    }
  std::vector<double> mean(f), inv(f);
  for (int64_t j = 0; j < f; ++j) {
    mean[j] = sum[j] / n;
    const double var = std::max(sq[j] / n - mean[j] * mean[j], 0.0);
    inv[j] = var > 1e-12 ? 1.0 / std::sqrt(var) : 1.0;
  }
  return {Tensor::from(mean, {1, f}), Tensor::from(inv, {1, f})};
}

Tensor Standardizer::apply(const Tensor& x) const { return mul(sub(x, mean), inv_std); }

void Standardizer::to(Device device) {
  mean = mean.to(device);
  inv_std = inv_std.to(device);
}

}  // namespace imx::eval
