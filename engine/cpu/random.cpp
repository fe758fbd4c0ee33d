// Random tensors from the Philox stream: element i uses stream position offset + i, so a
// tensor's values do not depend on threading or on the device.
#include "engine/cpu/cpu_backend.h"
#include "engine/philox.h"

namespace imx {

void CpuBackend::dropout_mask(uint64_t seed, uint64_t offset, double p, Tensor& mask) {
  dispatch(mask.dtype(), [&]<class T>() {
    T* m = mask.data<T>();
    const T keep = static_cast<T>(1.0 / (1.0 - p));
    const float threshold = static_cast<float>(p);
    const int64_t n = mask.numel();
#pragma omp parallel for if (n > 32768)
    for (int64_t i = 0; i < n; ++i)
      m[i] = philox::uniform(seed, offset + i) >= threshold ? keep : T(0);
  });
}

void CpuBackend::uniform(uint64_t seed, uint64_t offset, double lo, double hi, Tensor& out) {
  dispatch(out.dtype(), [&]<class T>() {
    T* o = out.data<T>();
    const int64_t n = out.numel();
#pragma omp parallel for if (n > 32768)
    for (int64_t i = 0; i < n; ++i)
      o[i] = static_cast<T>(lo + (hi - lo) * philox::uniform(seed, offset + i));
  });
}

}  // namespace imx
