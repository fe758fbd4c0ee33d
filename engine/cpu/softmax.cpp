// Row-wise log-softmax and the negative log-likelihood of integer labels.
#include <algorithm>
#include <cmath>

#include "engine/cpu/cpu_backend.h"

namespace imx {

void CpuBackend::log_softmax_forward(const Tensor& x, Tensor& y) {
  const int64_t rows = x.size(0), cols = x.size(1);
  dispatch(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* py = y.data<T>();
#pragma omp parallel for if (rows * cols > 32768)
    for (int64_t r = 0; r < rows; ++r) {
      const T* in = px + r * cols;
      const T mx = *std::max_element(in, in + cols);
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) s += std::exp(static_cast<double>(in[c] - mx));
      const T lse = static_cast<T>(mx + std::log(s));
      for (int64_t c = 0; c < cols; ++c) py[r * cols + c] = in[c] - lse;
    }
  });
}

void CpuBackend::log_softmax_backward(const Tensor& y, const Tensor& gy, Tensor& gx) {
  // gx = gy - softmax * sum(gy)
  const int64_t rows = y.size(0), cols = y.size(1);
  dispatch(y.dtype(), [&]<class T>() {
    const T *py = y.data<T>(), *pg = gy.data<T>();
    T* out = gx.data<T>();
#pragma omp parallel for if (rows * cols > 32768)
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) s += pg[r * cols + c];
      for (int64_t c = 0; c < cols; ++c)
        out[r * cols + c] = static_cast<T>(pg[r * cols + c] - std::exp(py[r * cols + c]) * s);
    }
  });
}

void CpuBackend::nll_forward(const Tensor& logp, const std::vector<int32_t>& labels, Tensor& loss) {
  const int64_t cols = logp.size(1);
  dispatch(logp.dtype(), [&]<class T>() {
    const T* p = logp.data<T>();
    double s = 0;
    for (size_t r = 0; r < labels.size(); ++r) s -= p[r * cols + labels[r]];
    loss.data<T>()[0] = static_cast<T>(s / static_cast<double>(labels.size()));
  });
}

void CpuBackend::nll_backward(const std::vector<int32_t>& labels, const Tensor& upstream, Tensor& glogp) {
  const int64_t cols = glogp.size(1);
  fill(glogp, 0.0);
  dispatch(glogp.dtype(), [&]<class T>() {
    T* p = glogp.data<T>();
    // The scale in double, as Tensor::item() read it before: the same bits as then.
    const double scale = static_cast<double>(upstream.data<T>()[0]);
    const T v = static_cast<T>(-scale / static_cast<double>(labels.size()));
    for (size_t r = 0; r < labels.size(); ++r) p[r * cols + labels[r]] = v;
  });
}

}  // namespace imx
