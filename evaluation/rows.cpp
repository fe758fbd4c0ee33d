#include "evaluation/rows.h"

#include <cstring>

namespace imx::eval {

Tensor gather_rows(const Tensor& x, std::span<const uint32_t> idx) {
  check(x.dim() == 2 && x.device() == Device::CPU && x.dtype() == DType::F32, "gather_rows",
        "needs a float32 CPU matrix, got " + x.describe());
  const int64_t width = x.size(1), rows = x.size(0);
  Tensor out = Tensor::empty({static_cast<int64_t>(idx.size()), width});
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  for (size_t i = 0; i < idx.size(); ++i) {
    check(idx[i] < rows, "gather_rows", "row " + std::to_string(idx[i]) + " of " + std::to_string(rows));
    std::memcpy(dst + i * width, src + static_cast<int64_t>(idx[i]) * width, width * sizeof(float));
  }
  return out;
}

Tensor first_rows(const Tensor& x, int64_t n) {
  if (n <= 0 || n >= x.size(0)) return x;
  Tensor out = Tensor::empty({n, x.size(1)}, x.dtype());
  std::memcpy(out.raw(), x.raw(), out.nbytes());
  return out;
}

}  // namespace imx::eval
