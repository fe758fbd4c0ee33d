// Optimizer updates, in place, elementwise (PyTorch's formulas, so runs compare with it).
#include <cmath>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/parallel.h"

namespace imx {

void CpuBackend::adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, double lr,
                           double beta1, double beta2, double eps, double weight_decay,
                           int64_t step) {
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
  dispatch(param.dtype(), [&]<class T>() {
    T *p = param.data<T>(), *pm = m.data<T>(), *pv = v.data<T>();
    const T* g = grad.data<T>();
    // In the parameter's precision, so that the loop vectorizes (as PyTorch's fused Adam does).
    const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2), wd = static_cast<T>(weight_decay);
    const T step_size = static_cast<T>(lr / bc1), inv_bc2 = static_cast<T>(1 / bc2), e = static_cast<T>(eps);
    cpu::parallel_ranges(param.numel(), 32768, [=](int64_t begin, int64_t end) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) {
        const T gi = g[i] + wd * p[i];
        const T mi = b1 * pm[i] + (T(1) - b1) * gi;
        const T vi = b2 * pv[i] + (T(1) - b2) * gi * gi;
        pm[i] = mi;
        pv[i] = vi;
        p[i] -= step_size * mi / (std::sqrt(vi * inv_bc2) + e);
      }
    });
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
