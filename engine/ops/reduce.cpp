// Sums and means over axes, and the reduction of broadcast gradients.
#include "engine/ops/common.h"

namespace imx {

using namespace ops;

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check(x.defined(), "sum_to", "undefined input");
  if (x.shape() == shape) return x;
  check(broadcast_shapes("sum_to", shape, x.shape()) == x.shape(), "sum_to",
        "cannot reduce " + shape_str(x.shape()) + " to " + shape_str(shape));
  Tensor y = empty_as(x, shape);
  backend_of(x).sum_to(x, y);
  return record_differentiable(y, "sum_to", {x}, [in = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{broadcast_to(g, in)};
  });
}

namespace {

// The shape with the reduced axes kept as 1, and the number of elements summed per output.
std::pair<Shape, int64_t> reduced_shape(const char* op, const Tensor& x,
                                        const std::vector<int64_t>& axes) {
  Shape keep = x.shape();
  int64_t count = 1;
  if (axes.empty()) {
    for (auto& d : keep) count *= d, d = 1;
  } else {
    for (auto axis : axes) {
      const int64_t a = normalize_axis(op, axis, x.dim());
      check(keep[a] != 1 || x.shape()[a] == 1, op, "axis repeated");
      count *= keep[a];
      keep[a] = 1;
    }
  }
  return {keep, count};
}

Shape drop_reduced(const Shape& x, const Shape& keep, const std::vector<int64_t>& axes) {
  if (axes.empty()) return {};
  Shape out;
  std::vector<bool> reduced(x.size(), false);
  for (auto axis : axes) reduced[axis < 0 ? axis + x.size() : axis] = true;
  for (size_t d = 0; d < x.size(); ++d)
    if (!reduced[d]) out.push_back(keep[d]);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  check(x.defined(), "sum", "undefined input");
  auto [keep, count] = reduced_shape("sum", x, axes);
  Tensor y = sum_to(x, keep);
  return keepdim ? y : reshape(y, drop_reduced(x.shape(), keep, axes));
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  check(x.defined(), "mean", "undefined input");
  auto [keep, count] = reduced_shape("mean", x, axes);
  check(count > 0, "mean", "mean over zero elements of " + shape_str(x.shape()));
  return scale(sum(x, axes, keepdim), 1.0 / static_cast<double>(count));
}

}  // namespace imx
