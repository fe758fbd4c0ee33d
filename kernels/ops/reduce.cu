// sum_to: x summed over the axes where the output has stride 0 (a broadcast's gradient). The
// kept axes index the outputs, the reduced axes index the values of each output's sum; both
// are simplified separately and handed to the segmented reduction (segment_reduce.cuh), which
// picks warp-per-output or thread-per-output and splits long sums over few outputs.
#include <string>

#include "kernels/ops/common.cuh"
#include "kernels/ops/index.cuh"
#include "kernels/ops/launchers.h"
#include "kernels/ops/segment_reduce.cuh"

namespace imx::IMX_KNS {

namespace {

struct SumValues {
  const float* base;  // x at the output's first value
  StridedSpace<1> reduced;
  IMX_DEVICE float operator()(int64_t r) const { return base[offset_of(reduced, r)]; }
};

struct SumSource {
  const float* x;
  StridedSpace<1> kept, reduced;
  IMX_DEVICE SumValues segment(int64_t o) const { return {x + offset_of(kept, o), reduced}; }
};

struct StoreSum {
  float* out;
  IMX_DEVICE void operator()(int64_t o, float sum) const { out[o] = sum; }
};

[[noreturn]] void bad_sum_to(const std::string& what) {
  throw std::runtime_error("kernels/ops sum_to: " + what);
}

// The segmented problem of a sum_to: sources of every output's values and whether
// neighbouring outputs are neighbours in x.
struct SumPlan {
  SumSource source;
  bool outputs_adjacent;
};

SumPlan plan_sum_to(const float* x, const Dims& x_shape, const Dims& out_strides, int64_t out_numel) {
  check_rank(x_shape, x_shape.rank, "sum_to", "x_shape");
  check_rank(out_strides, x_shape.rank, "sum_to", "out_strides");
  const Dims x_strides = contiguous_strides(x_shape);
  Dims kept_shape, kept_x, reduced_shape, reduced_x;
  for (int d = 0; d < x_shape.rank; ++d) {
    const int64_t extent = x_shape.d[d];
    if (extent < 0) bad_sum_to("negative extent " + std::to_string(extent));
    Dims& shape = out_strides.d[d] == 0 ? reduced_shape : kept_shape;
    Dims& strides = out_strides.d[d] == 0 ? reduced_x : kept_x;
    shape.d[shape.rank] = extent;
    strides.d[strides.rank++] = x_strides.d[d];
    ++shape.rank;
  }
  // The output is contiguous over the kept axes: output o is the row-major position there.
  const Dims kept_out = contiguous_strides(kept_shape);
  for (int d = 0, k = 0; d < x_shape.rank; ++d) {
    if (out_strides.d[d] == 0) continue;
    if (kept_shape.d[k] > 1 && out_strides.d[d] != kept_out.d[k])
      bad_sum_to("out_strides are not contiguous over the kept axes (axis " + std::to_string(d) +
                 " has stride " + std::to_string(out_strides.d[d]) + ", expected " +
                 std::to_string(kept_out.d[k]) + ")");
    ++k;
  }
  const Dims kept_strides[1] = {kept_x};
  const Dims reduced_strides[1] = {reduced_x};
  const SumSource source{x, make_space(kept_shape, kept_strides, "sum_to"),
                         make_space(reduced_shape, reduced_strides, "sum_to")};
  if (source.kept.numel != out_numel)
    bad_sum_to("out_numel is " + std::to_string(out_numel) + " but the kept axes hold " +
               std::to_string(source.kept.numel) + " elements");
  // Neighbouring outputs are neighbours in x when x's innermost (non-trivial) axis is kept.
  const bool outputs_adjacent = source.kept.shape.rank > 0 &&
                                source.kept.strides[0].d[source.kept.shape.rank - 1] == 1;
  return {source, outputs_adjacent};
}

}  // namespace

std::size_t sum_to_workspace_bytes(const Dims& x_shape, const Dims& out_strides, int64_t out_numel) {
  const SumPlan plan = plan_sum_to(nullptr, x_shape, out_strides, out_numel);
  return segment::workspace_bytes<float>(out_numel, plan.source.reduced.numel, plan.outputs_adjacent);
}

void sum_to(const float* x, const Dims& x_shape, const Dims& out_strides, float* out,
            int64_t out_numel, void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  const SumPlan plan = plan_sum_to(x, x_shape, out_strides, out_numel);
  segment::reduce<float>(plan.source, StoreSum{out}, out_numel, plan.source.reduced.numel,
                         plan.outputs_adjacent, workspace, workspace_bytes, "sum_to", stream);
}

}  // namespace imx::IMX_KNS
