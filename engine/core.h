// Basic vocabulary of the engine: element types, devices, shapes, and the error type.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace imx {

enum class DType { F32, F64 };
enum class Device { CPU, CUDA };
using Shape = std::vector<int64_t>;

inline size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 8; }
const char* dtype_name(DType t);
const char* device_name(Device d);
int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);

// An error raised by an op: the message always starts with the op's name.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& op, const std::string& what);
inline void check(bool ok, const std::string& op, const std::string& what) {
  if (!ok) fail(op, what);
}

// Calls f.template operator()<T>() with T = float or double according to the dtype.
template <class F>
decltype(auto) dispatch(DType t, F&& f) {
  if (t == DType::F32) return f.template operator()<float>();
  return f.template operator()<double>();
}

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }

}  // namespace imx
