#include "engine/tensor.h"

#include <sstream>

#include "engine/autograd.h"
#include "engine/backend.h"

namespace imx {

TensorImpl& Tensor::impl() const {
  if (!impl_) throw Error("Tensor: use of an undefined tensor");
  return *impl_;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (auto d : shape) check(d >= 0, "Tensor::empty", "negative dimension in " + shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->storage = std::make_shared<Storage>();
  impl->storage->bytes = imx::numel(shape) * dtype_size(dtype);
  impl->storage->device = device;
  impl->storage->data = backend(device).allocate(impl->storage->bytes);
  return Tensor(std::move(impl));
}

Tensor Tensor::wrap(std::shared_ptr<void> data, const Shape& shape, DType dtype) {
  check(data != nullptr, "Tensor::wrap", "null data for shape " + shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->storage = std::make_shared<Storage>();
  impl->storage->bytes = imx::numel(shape) * dtype_size(dtype);
  impl->storage->device = Device::CPU;
  impl->storage->data = std::move(data);
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  backend(device).fill(t, value);
  return t;
}

Tensor Tensor::from(const std::vector<double>& values, const Shape& shape, DType dtype) {
  check(static_cast<int64_t>(values.size()) == imx::numel(shape), "Tensor::from",
        std::to_string(values.size()) + " values for shape " + shape_str(shape));
  Tensor t = empty(shape, dtype);
  dispatch(dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
  });
  return t;
}

int64_t Tensor::size(int64_t axis) const {
  const int64_t r = dim();
  const int64_t a = axis < 0 ? axis + r : axis;
  check(a >= 0 && a < r, "Tensor::size", "axis " + std::to_string(axis) + " out of range for " +
                                             describe());
  return shape()[a];
}

std::string Tensor::describe() const {
  if (!impl_) return "undefined tensor";
  std::ostringstream o;
  o << dtype_name(dtype()) << shape_str(shape()) << " on " << device_name(device());
  return o.str();
}

std::vector<double> Tensor::to_vector() const {
  Tensor host = device() == Device::CPU ? *this : to(Device::CPU);
  std::vector<double> out(numel());
  dispatch(dtype(), [&]<class T>() {
    const T* p = host.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(p[i]);
  });
  return out;
}

double Tensor::item() const {
  check(numel() == 1, "Tensor::item", "needs one element, got " + describe());
  return to_vector()[0];
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor out = empty(shape(), dtype(), target);
  // The non-CPU side owns transfers.
  backend(target == Device::CPU ? device() : target).copy(*this, out);
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor host = device() == Device::CPU ? *this : to(Device::CPU);
  Tensor out = empty(shape(), target, Device::CPU);
  cpu_backend().copy(host, out);
  return out.to(device());
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  backend(device()).copy(*this, out);
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape();
  impl->dtype = dtype();
  impl->storage = this->impl().storage;
  return Tensor(std::move(impl));
}

void Tensor::copy_from(const Tensor& src) {
  check(src.shape() == shape(), "Tensor::copy_from",
        "shape " + shape_str(src.shape()) + " into " + shape_str(shape()));
  Tensor s = src.dtype() == dtype() ? src : src.to(dtype());
  backend(s.device() == Device::CPU ? device() : s.device()).copy(s, *this);
}

Tensor& Tensor::set_requires_grad(bool on) {
  check(!on || !impl().grad_fn, "Tensor::set_requires_grad",
        "only leaf tensors can be marked; this one was produced by " + std::string("an op"));
  impl().requires_grad = on;
  return *this;
}

void Tensor::backward(bool retain_graph) const {
  check(numel() == 1, "Tensor::backward", "needs a one-element tensor, got " + describe() +
                                              "; pass a seed gradient instead");
  backward(Tensor::full(shape(), 1.0, dtype(), device()), retain_graph);
}

void Tensor::backward(const Tensor& seed, bool retain_graph) const {
  run_backward(*this, seed, retain_graph);
}

}  // namespace imx
