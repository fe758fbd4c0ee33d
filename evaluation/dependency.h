// The dependency measures of the paper's Table 4, both DV bounds (dv_critic.h) in nats on the
// test split, after training on the training split. Inputs are standardized per dimension with
// training statistics (neither measure changes under per-dimension affine maps).
//
// NDM, the neural dependency measure: how far Y is from having independent dimensions. A
// 1000-200-1 ReLU MLP tells Y from Y shuffled per dimension across the batch (each dimension
// permuted independently, which keeps every marginal and destroys the dependence); its bound
// estimates the total correlation KL(p(y) ‖ Π_j p(y_j)). 0 means independent dimensions.
//
// MINE: I(X; Y) between the input and its encoding. A ReLU MLP critic T([x; y]) tells pairs
// (x_i, y_i) from (x_i, y_π(i)) with π a permutation of the batch.
#pragma once
#include <cstdint>
#include <vector>

#include "evaluation/dv_critic.h"

namespace imx::eval {

// o.hidden empty = the reference's 1000, 200.
double neural_dependency_measure(const Tensor& y_train, const Tensor& y_test, DvOptions o);

// o.hidden empty = 512, 512.
double mine_mutual_information(const Tensor& x_train, const Tensor& y_train, const Tensor& x_test,
                               const Tensor& y_test, DvOptions o);

// Y with each column permuted independently (seeded): a sample of the product of marginals.
Tensor shuffle_each_column(const Tensor& y, uint64_t seed);

}  // namespace imx::eval
