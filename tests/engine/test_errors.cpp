// Shape mismatches give errors that name the op and both shapes.
#include "engine/backend.h"
#include "engine/ops.h"
#include "helpers.h"

using namespace imx;
using Catch::Contains;

TEST_CASE("shape mismatches name the op and both shapes", "[errors]") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  CHECK_THROWS_WITH(matmul(a, b), Contains("matmul") && Contains("[2, 3]") && Contains("[4, 5]"));
  CHECK_THROWS_WITH(add(a, b), Contains("add") && Contains("[2, 3]") && Contains("[4, 5]"));
  CHECK_THROWS_WITH(linear(a, b), Contains("linear") && Contains("[2, 3]") && Contains("[4, 5]"));
  CHECK_THROWS_WITH(linear_sum({a, a}, {Tensor::zeros({4, 3}), Tensor::zeros({5, 3})}),
                    Contains("linear") && Contains("summed terms differ") && Contains("[5, 3]"));
  Tensor x = Tensor::zeros({1, 3, 8, 8}), w = Tensor::zeros({4, 2, 3, 3});
  CHECK_THROWS_WITH(conv2d(x, w), Contains("conv2d") && Contains("[1, 3, 8, 8]") && Contains("[4, 2, 3, 3]"));
  CHECK_THROWS_WITH(reshape(a, {4, 2}), Contains("reshape") && Contains("[2, 3]") && Contains("[4, 2]"));
  CHECK_THROWS_WITH(concat({a, b}, 0), Contains("concat") && Contains("[2, 3]") && Contains("[4, 5]"));
  CHECK_THROWS_WITH(cross_entropy(a, {0, 3}), Contains("cross_entropy") && Contains("label 3"));
  CHECK_THROWS_WITH(add(a, Tensor::zeros({2, 3}, DType::F64)), Contains("add") && Contains("mixed dtypes"));
  Tensor g = Tensor::zeros({3}), rm = Tensor::zeros({3}), rv = Tensor::zeros({3});
  CHECK_THROWS_WITH(batch_norm(Tensor::zeros({2, 4}), g, g, rm, rv, true),
                    Contains("batch_norm") && Contains("[3]") && Contains("[2, 4]"));
}

TEST_CASE("the CUDA device gives a clear error when there is no CUDA backend", "[errors]") {
  if (cuda_backend_available()) {
    CHECK(Tensor::zeros({2}, DType::F32, Device::CUDA).to_vector() == std::vector<double>{0, 0});
  } else {
    CHECK_THROWS_WITH(Tensor::zeros({2}, DType::F32, Device::CUDA), Contains("no CUDA backend"));
  }
}
