#include "engine/random.h"

#include "engine/backend.h"

namespace imx {

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype,
               Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  backend(device).uniform(gen.seed(), gen.advance(t.numel()), lo, hi, t);
  return t;
}

}  // namespace imx
