// Optimizer updates, in place, elementwise (PyTorch's formulas, so runs compare with it).
#include <cmath>

#include "engine/cpu/cpu_backend.h"

namespace imx {

void CpuBackend::adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                           double beta1, double beta2, double eps, double weight_decay,
                           int64_t step) {
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
  dispatch(param.dtype(), [&]<class T>() {
    T *p = param.data<T>(), *pm = m.data<T>(), *pv = v.data<T>();
    const T* g = grad.data<T>();
    const int64_t n = param.numel();
#pragma omp parallel for if (n > 32768)
    for (int64_t i = 0; i < n; ++i) {
      const double gi = g[i] + weight_decay * p[i];
      const double mi = beta1 * pm[i] + (1 - beta1) * gi;
      const double vi = beta2 * pv[i] + (1 - beta2) * gi * gi;
      pm[i] = static_cast<T>(mi);
      pv[i] = static_cast<T>(vi);
      p[i] = static_cast<T>(p[i] - lr * (mi / bc1) / (std::sqrt(vi / bc2) + eps));
    }
  });
}

void CpuBackend::sgd_step(Tensor& param, const Tensor& grad, Tensor& buf, double lr,
                          double momentum, double weight_decay, bool first_step) {
  dispatch(param.dtype(), [&]<class T>() {
    T *p = param.data<T>(), *b = buf.data<T>();
    const T* g = grad.data<T>();
    const int64_t n = param.numel();
#pragma omp parallel for if (n > 32768)
    for (int64_t i = 0; i < n; ++i) {
      const double gi = g[i] + weight_decay * p[i];
      const double bi = momentum == 0 ? gi : (first_step ? gi : momentum * b[i] + gi);
      b[i] = static_cast<T>(bi);
      p[i] = static_cast<T>(p[i] - lr * bi);
    }
  });
}

}  // namespace imx
