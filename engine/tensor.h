// Tensor: a contiguous, row-major (NCHW for images) array on one device, with autograd metadata.
// Tensors are handles: copying one shares the data. Reshape shares storage; every other op
// produces a new contiguous tensor, which keeps kernels simple (no strides anywhere).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/core.h"

namespace imx {

struct Node;

struct Storage {
  std::shared_ptr<void> data;  // freed through the owning backend's allocator
  size_t bytes = 0;
  Device device = Device::CPU;
};

struct TensorImpl {
  Shape shape;
  DType dtype = DType::F32;
  std::shared_ptr<Storage> storage;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;     // the op that produced this tensor, when tracked
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised, zero-filled or constant tensors.
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = Device::CPU);
  // A CPU tensor over memory the caller owns through `data` (kept alive by the tensor): no
  // copy. Used for pinned batch buffers, which the CUDA backend then uploads asynchronously.
  static Tensor wrap(std::shared_ptr<void> data, const Shape& shape, DType dtype = DType::F32);
  // Copies host values (converted to dtype) into a new CPU tensor.
  static Tensor from(const std::vector<double>& values, const Shape& shape,
                     DType dtype = DType::F32);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return imx::numel(shape()); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device; }
  size_t nbytes() const { return numel() * dtype_size(dtype()); }
  std::string describe() const;  // e.g. "float32[64, 3, 32, 32] on cpu"

  void* raw() const { return impl().storage->data.get(); }
  template <class T> T* data() const {
    check(dtype_of<T>() == dtype(), "Tensor::data", std::string("tensor is ") + dtype_name(dtype()));
    return static_cast<T*>(raw());
  }

  // Host copies of the values (any device, any dtype), for tests, tools and printing.
  std::vector<double> to_vector() const;
  double item() const;  // the value of a one-element tensor

  // Device and dtype conversions (new tensors, not tracked by autograd).
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor clone() const;
  // A tensor sharing this one's data, cut from the autograd graph.
  Tensor detach() const;

  // In-place copy of values from another tensor of the same shape (any device/dtype).
  void copy_from(const Tensor& src);

  // Autograd.
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool on = true);
  Tensor grad() const { return Tensor(impl().grad); }
  void zero_grad() { impl_->grad.reset(); }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  // Back-propagates from this one-element tensor (seed 1), or with an explicit seed gradient.
  // The graph's gradient rules and saved tensors are released as they run; retain_graph keeps
  // them for another walk.
  void backward(bool retain_graph = false) const;
  void backward(const Tensor& seed, bool retain_graph = false) const;

  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace imx
