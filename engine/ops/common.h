// Helpers shared by the op files: argument checks with messages that name the op and shapes.
#pragma once
#include <string>

#include "engine/autograd.h"
#include "engine/backend.h"
#include "engine/ops.h"

namespace imx::ops {

inline Backend& backend_of(const Tensor& t) { return backend(t.device()); }

inline Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }
inline Tensor empty_as(const Tensor& t, const Shape& s) {
  return Tensor::empty(s, t.dtype(), t.device());
}

// Both tensors defined, on one device and of one dtype.
void check_same_kind(const char* op, const Tensor& a, const Tensor& b);
void check_rank(const char* op, const Tensor& t, std::initializer_list<int64_t> ranks,
                const char* what);
// NumPy broadcast of two shapes, or an error naming the op and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
// Normalizes a possibly negative axis.
int64_t normalize_axis(const char* op, int64_t axis, int64_t rank);

}  // namespace imx::ops
