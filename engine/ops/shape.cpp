// Shape ops. reshape shares storage; the others copy through strided gathers, and each
// gradient is the adjoint copy.
#include <numeric>

#include "engine/cpu/strided.h"
#include "engine/ops/common.h"

namespace imx {

using namespace ops;

Tensor reshape(const Tensor& x, const Shape& shape) {
  check(x.defined(), "reshape", "undefined input");
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      check(infer < 0, "reshape", "more than one -1 in " + shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      check(s[i] >= 0, "reshape", "negative dimension in " + shape_str(shape));
      known *= s[i];
    }
  }
  if (infer >= 0) {
    check(known > 0 && x.numel() % known == 0, "reshape",
          "cannot view " + shape_str(x.shape()) + " as " + shape_str(shape));
    s[infer] = x.numel() / known;
  }
  check(numel(s) == x.numel(), "reshape",
        "cannot view " + shape_str(x.shape()) + " (" + std::to_string(x.numel()) +
            " elements) as " + shape_str(shape));
  Tensor y = x.detach();
  y.impl().shape = s;
  return record_differentiable(y, "reshape", {x}, [in = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{reshape(g, in)};
  });
}

Tensor flatten(const Tensor& x) {
  check(x.defined() && x.dim() >= 1, "flatten", "needs a tensor of rank >= 1");
  return reshape(x, {x.size(0), -1});
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& order) {
  check(static_cast<int64_t>(order.size()) == x.dim(), "permute",
        "order has " + std::to_string(order.size()) + " axes for " + shape_str(x.shape()));
  std::vector<int64_t> inverse(order.size(), -1);
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t a = normalize_axis("permute", order[i], x.dim());
    check(inverse[a] < 0, "permute", "axis repeated in the order");
    inverse[a] = static_cast<int64_t>(i);
  }
  const Shape in_strides = cpu::contiguous_strides(x.shape());
  Shape out_shape(order.size()), strides(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t a = normalize_axis("permute", order[i], x.dim());
    out_shape[i] = x.shape()[a];
    strides[i] = in_strides[a];
  }
  Tensor y = empty_as(x, out_shape);
  backend_of(x).gather_strided(x, 0, strides, y);
  return record_differentiable(y, "permute", {x}, [inverse](const Tensor& g) {
    return std::vector<Tensor>{permute(g, inverse)};
  });
}

Tensor slice(const Tensor& x, int64_t axis, int64_t begin, int64_t end) {
  check(x.defined(), "slice", "undefined input");
  const int64_t a = normalize_axis("slice", axis, x.dim());
  check(0 <= begin && begin <= end && end <= x.size(a), "slice",
        "range [" + std::to_string(begin) + ", " + std::to_string(end) + ") outside axis " +
            std::to_string(a) + " of " + shape_str(x.shape()));
  const Shape strides = cpu::contiguous_strides(x.shape());
  Shape out_shape = x.shape();
  out_shape[a] = end - begin;
  Tensor y = empty_as(x, out_shape);
  backend_of(x).gather_strided(x, begin * strides[a], strides, y);
  auto rule = [in = x.shape(), a, begin, end, strides](const Tensor& g) {
    // One rule, two evaluations: recording on means grad(create_graph=true), which needs the
    // zero padding as recorded ops (concat, whose rule slices again); otherwise one scatter.
    if (grad_enabled()) {
      auto zeros = [&](int64_t n) {
        Shape s = in;
        s[a] = n;
        return Tensor::zeros(s, g.dtype(), g.device());
      };
      std::vector<Tensor> parts;
      if (begin > 0) parts.push_back(zeros(begin));
      parts.push_back(g);
      if (end < in[a]) parts.push_back(zeros(in[a] - end));
      return std::vector<Tensor>{concat(parts, a)};
    }
    Tensor gx = Tensor::zeros(in, g.dtype(), g.device());
    backend_of(g).scatter_add_strided(g, begin * strides[a], strides, gx);
    return std::vector<Tensor>{gx};
  };
  return record_differentiable(y, "slice", {x}, rule);
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  check(!xs.empty(), "concat", "no tensors given");
  const int64_t a = normalize_axis("concat", axis, xs[0].dim());
  Shape out_shape = xs[0].shape();
  out_shape[a] = 0;
  for (const auto& x : xs) {
    check_same_kind("concat", xs[0], x);
    bool ok = x.dim() == xs[0].dim();
    for (int64_t d = 0; ok && d < x.dim(); ++d) ok = d == a || x.size(d) == xs[0].size(d);
    check(ok, "concat", "shapes " + shape_str(xs[0].shape()) + " and " + shape_str(x.shape()) +
                            " differ outside axis " + std::to_string(a));
    out_shape[a] += x.size(a);
  }
  Tensor y = Tensor::zeros(out_shape, xs[0].dtype(), xs[0].device());
  const Shape strides = cpu::contiguous_strides(out_shape);
  int64_t begin = 0;
  for (const auto& x : xs) {
    backend_of(x).scatter_add_strided(x, begin * strides[a], strides, y);
    begin += x.size(a);
  }
  std::vector<int64_t> sizes;  // the rule needs the parts' extents only, not their data
  for (const auto& x : xs) sizes.push_back(x.size(a));
  return record_differentiable(y, "concat", xs, [sizes, a](const Tensor& g) {
    std::vector<Tensor> grads;
    int64_t b = 0;
    for (int64_t n : sizes) {
      grads.push_back(slice(g, a, b, b + n));
      b += n;
    }
    return grads;
  });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check(x.defined(), "broadcast_to", "undefined input");
  check(broadcast_shapes("broadcast_to", x.shape(), shape) == shape, "broadcast_to",
        "cannot broadcast " + shape_str(x.shape()) + " to " + shape_str(shape));
  Tensor y = empty_as(x, shape);
  backend_of(x).gather_strided(x, 0, cpu::broadcast_strides(x.shape(), shape), y);
  return record_differentiable(y, "broadcast_to", {x}, [in = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, in)};
  });
}

}  // namespace imx
