#include "engine/cpu/strided.h"

namespace imx::cpu {

Shape contiguous_strides(const Shape& shape) {
  Shape s(shape.size());
  int64_t acc = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

Shape broadcast_strides(const Shape& in, const Shape& out) {
  const Shape contiguous = contiguous_strides(in);
  Shape s(out.size(), 0);
  const size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    s[lead + d] = (in[d] == 1 && out[lead + d] != 1) ? 0 : contiguous[d];
  return s;
}

}  // namespace imx::cpu
