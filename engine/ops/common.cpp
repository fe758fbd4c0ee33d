#include "engine/ops/common.h"

namespace imx::ops {

void check_same_kind(const char* op, const Tensor& a, const Tensor& b) {
  check(a.defined() && b.defined(), op, "undefined tensor argument");
  check(a.device() == b.device(), op, "tensors on different devices: " + a.describe() + " and " +
                                          b.describe());
  check(a.dtype() == b.dtype(), op, "mixed dtypes: " + a.describe() + " and " + b.describe());
}

void check_rank(const char* op, const Tensor& t, std::initializer_list<int64_t> ranks,
                const char* what) {
  check(t.defined(), op, std::string(what) + " is undefined");
  for (auto r : ranks)
    if (t.dim() == r) return;
  std::string allowed;
  for (auto r : ranks) allowed += (allowed.empty() ? "" : " or ") + std::to_string(r);
  fail(op, std::string(what) + " must have rank " + allowed + ", got " + shape_str(t.shape()));
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    check(da == db || da == 1 || db == 1, op,
          "shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t normalize_axis(const char* op, int64_t axis, int64_t rank) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  check(a >= 0 && a < rank, op, "axis " + std::to_string(axis) + " out of range for rank " +
                                    std::to_string(rank));
  return a;
}

}  // namespace imx::ops
