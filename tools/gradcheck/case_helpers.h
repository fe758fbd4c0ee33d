// Helpers shared by the first-order (cases.cpp) and second-order (second_order_cases.cpp)
// case lists.
#pragma once
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "tools/gradcheck/gradcheck.h"

namespace imx::gradcheck {

using Inputs = std::vector<Tensor>;

// Random float64 leaf in [lo, hi), seeded by a running counter so cases differ.
Tensor leaf(const Shape& s, double lo = -1, double hi = 1, bool grad = true);
// Values in ±[0.2, 1]: away from the kinks of relu and from ties in max-pooling windows.
Tensor leaf_away_from_zero(const Shape& s);
// "[a, b] [c]": the shapes for a report row.
std::string shapes(std::initializer_list<Shape> ss);
void add_case(std::vector<Case>& cs, std::string op, std::string shape, std::function<Inputs()> in,
              std::function<Tensor(const Inputs&)> f);

}  // namespace imx::gradcheck
