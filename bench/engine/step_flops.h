// The FLOPs of one DIM(L) training step (encoder, dot critic, MI loss), counted term by term
// from the layer shapes, so that `dim-bench engine` can print a step's share of the GEMM
// ceiling beside the count it is based on. Only products are counted (elementwise work, batch
// and layer norms, Adam are not): that is what the ceiling measures.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/encoder.h"

namespace imx::bench {

struct FlopTerm {
  std::string what;  // e.g. "conv1 fwd+bwd (3 products)"
  double flops;
};

// Every product of a training step at `batch` images: each conv forward, its filter gradient
// and (except the first layer, whose images need none) its data gradient; each linear layer's
// forward and both gradients (fc layers, Y, the critic's local and global blocks); the MI
// loss's three products 6·(B)·(B·M²)·units.
std::vector<FlopTerm> dim_l_step_flops(const models::EncoderSpec& spec, int64_t batch, int64_t units);
double total_flops(const std::vector<FlopTerm>& terms);

}  // namespace imx::bench
