// Per-dimension standardization with statistics of the training split: logistic regression
// and the dependency critics then see unit-scale inputs whatever the feature set (pixels,
// ReLU conv maps, Y), so one learning rate fits all. It is a fixed affine map, so a linear
// probe on standardized features is still a linear classifier of the raw ones, and MI and
// total correlation are unchanged by it.
#pragma once
#include "engine/tensor.h"

namespace imx::eval {

struct Standardizer {
  Tensor mean, inv_std;  // [1, F]; a constant dimension gets inv_std 1 (it stays 0 after centring)

  // Statistics of the rows of x [N, F] (accumulated in float64).
  static Standardizer fit(const Tensor& x);
  // (x - mean) · inv_std on x's device (recorded by autograd like any op).
  Tensor apply(const Tensor& x) const;
  void to(Device device);
};

}  // namespace imx::eval
