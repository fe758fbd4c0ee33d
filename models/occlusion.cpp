#include "models/occlusion.h"

#include <cmath>
#include <string>

#include "engine/ops.h"
#include "engine/random.h"

namespace imx::models {

namespace {
constexpr uint64_t kOcclusionStream = 0x6f63636c;  // "occl"
}

void OcclusionSpec::validate() const {
  check(probability >= 0 && probability <= 1, "occlusion",
        "probability must be in [0, 1], got " + std::to_string(probability));
  check(size > 0 && size <= 1, "occlusion", "size must be in (0, 1], got " + std::to_string(size));
  check(std::isfinite(fill), "occlusion", "fill must be finite");
}

Tensor occlusion_mask(int64_t n, int64_t height, int64_t width, const OcclusionSpec& spec, uint64_t seed,
                      uint64_t step, DType dtype) {
  spec.validate();
  Generator gen = stream_generator(seed, kOcclusionStream, step);
  // Three draws per image: whether it is occluded, the square's top and its left edge.
  const std::vector<double> u = uniform({n, 3}, 0, 1, gen, DType::F64).to_vector();
  const int64_t side_h = std::max<int64_t>(1, std::lround(spec.size * height));
  const int64_t side_w = std::max<int64_t>(1, std::lround(spec.size * width));
  std::vector<double> mask(static_cast<size_t>(n * height * width), 1.0);
  for (int64_t i = 0; i < n; ++i) {
    if (u[3 * i] >= spec.probability) continue;
    const int64_t top = std::min(height - side_h, static_cast<int64_t>(u[3 * i + 1] * (height - side_h + 1)));
    const int64_t left = std::min(width - side_w, static_cast<int64_t>(u[3 * i + 2] * (width - side_w + 1)));
    for (int64_t r = top; r < top + side_h; ++r)
      for (int64_t c = left; c < left + side_w; ++c) mask[(i * height + r) * width + c] = 0.0;
  }
  return Tensor::from(mask, {n, 1, height, width}, dtype);
}

Tensor occlude(const Tensor& x, const OcclusionSpec& spec, uint64_t seed, uint64_t step) {
  check(x.dim() == 4, "occlude", "expects images [N, C, H, W], got " + shape_str(x.shape()));
  const Tensor keep = occlusion_mask(x.size(0), x.size(2), x.size(3), spec, seed, step, x.dtype()).to(x.device());
  Tensor hidden = mul(x, keep);
  // x·keep + fill·(1 − keep): only the squares take the fill value.
  return spec.fill == 0 ? hidden : add(hidden, scale(add_scalar(neg(keep), 1.0), spec.fill));
}

}  // namespace imx::models
