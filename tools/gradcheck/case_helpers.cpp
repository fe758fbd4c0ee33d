#include "tools/gradcheck/case_helpers.h"

#include "engine/random.h"

namespace imx::gradcheck {

Tensor leaf(const Shape& s, double lo, double hi, bool grad) {
  static uint64_t seed = 1;
  Generator gen(seed++);
  Tensor t = uniform(s, lo, hi, gen, DType::F64);
  return grad ? t.set_requires_grad(true) : t;
}

Tensor leaf_away_from_zero(const Shape& s) {
  Tensor t = leaf(s, 0.2, 1.0, false);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (i % 2) p[i] = -p[i] - 1e-3 * static_cast<double>(i % 7);
  return t.set_requires_grad(true);
}

std::string shapes(std::initializer_list<Shape> ss) {
  std::string out;
  for (const auto& s : ss) out += (out.empty() ? "" : " ") + shape_str(s);
  return out;
}

void add_case(std::vector<Case>& cs, std::string op, std::string shape, std::function<Inputs()> in,
              std::function<Tensor(const Inputs&)> f) {
  cs.push_back(Case{std::move(op), std::move(shape), std::move(in), std::move(f)});
}

}  // namespace imx::gradcheck
