#include "engine/core.h"

#include <sstream>

namespace imx {

const char* dtype_name(DType t) { return t == DType::F32 ? "float32" : "float64"; }
const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << '[';
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << ']';
  return o.str();
}

void fail(const std::string& op, const std::string& what) { throw Error(op + ": " + what); }

}  // namespace imx
