// Occlusion (paper Table 5): Y is computed from an input with a part hidden, while the local
// features come from the full input, so Y must encode what the visible part implies about the
// rest. The authors never shipped it; this is the scheme infomax uses:
//   each image independently, with probability `probability`, gets one axis-aligned square of
//   side round(size · image side) at a uniformly random position fully inside the image, whose
//   pixels (every channel) are set to `fill` (0: the middle of the [-1, 1] input range).
// The squares of a step are a function of (seed, step) alone (engine/random.h).
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace imx::models {

struct OcclusionSpec {
  double probability = 0.5;
  double size = 0.5;  // side of the square, as a fraction of the image side
  double fill = 0.0;
  void validate() const;  // throws imx::Error naming the bad value
};

// [N, 1, H, W] mask: 0 inside each image's square, 1 elsewhere (CPU, dtype of the images).
Tensor occlusion_mask(int64_t n, int64_t height, int64_t width, const OcclusionSpec& spec,
                      uint64_t seed, uint64_t step, DType dtype = DType::F32);

// x [N, C, H, W] with the step's squares filled (on x's device).
Tensor occlude(const Tensor& x, const OcclusionSpec& spec, uint64_t seed, uint64_t step);

}  // namespace imx::models
