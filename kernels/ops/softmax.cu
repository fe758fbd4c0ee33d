// Row-wise log-softmax over [rows, cols] and the negative log-likelihood of integer labels.
// A row is handled by one warp when it is short (cols <= 1024: at most 32 values per lane) and
// by one block of 256 threads otherwise (the DIM score matrices, B x B*P, have long rows); both
// variants are one kernel body templated on the unit (common.cuh). The NLL forward is a single
// block reduction, so the loss is deterministic.
#include "kernels/ops/common.cuh"
#include "kernels/ops/launchers.h"

namespace imx::IMX_KNS {

namespace {

constexpr int64_t kMaxWarpRow = 32 * kWarp;

template <class Unit>
IMX_KERNEL void log_softmax_forward_kernel(const float* x, float* y, int64_t rows, int64_t cols) {
  for_each_item<Unit>(rows, [&](int64_t r) {
    const float* in = x + r * cols;
    float m = -INFINITY;
    for (int64_t c = Unit::rank(); c < cols; c += Unit::size()) m = fmaxf(m, in[c]);
    m = Unit::max(m);
    float s = 0.0f;
    for (int64_t c = Unit::rank(); c < cols; c += Unit::size()) s += expf(in[c] - m);
    const float lse = m + logf(Unit::sum(s));
    for (int64_t c = Unit::rank(); c < cols; c += Unit::size()) y[r * cols + c] = in[c] - lse;
  });
}

// gx = gy - softmax * sum(gy), softmax = exp(y).
template <class Unit>
IMX_KERNEL void log_softmax_backward_kernel(const float* y, const float* gy, float* gx,
                                            int64_t rows, int64_t cols) {
  for_each_item<Unit>(rows, [&](int64_t r) {
    const int64_t row = r * cols;
    float s = 0.0f;
    for (int64_t c = Unit::rank(); c < cols; c += Unit::size()) s += gy[row + c];
    s = Unit::sum(s);
    for (int64_t c = Unit::rank(); c < cols; c += Unit::size())
      gx[row + c] = gy[row + c] - expf(y[row + c]) * s;
  });
}

// One block: each thread sums a strided share of the picked log-probabilities.
IMX_KERNEL void nll_forward_kernel(const float* logp, const int32_t* labels, int64_t rows,
                                   int64_t cols, float* loss) {
  float s = 0.0f;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) s += logp[r * cols + labels[r]];
  s = BlockUnit::sum(s);
  if (threadIdx.x == 0) *loss = -s / static_cast<float>(rows);
}

IMX_KERNEL void nll_backward_kernel(const int32_t* labels, int64_t rows, int64_t cols,
                                    const float* upstream, float* glogp) {
  for_each_item<ThreadUnit>(rows * cols, [&](int64_t i) {
    // In double like the CPU backend (which divides the double of the same float), so the
    // value matches it bit for bit; only the label entries pay for the division.
    glogp[i] = labels[i / cols] == i % cols
                   ? static_cast<float>(-static_cast<double>(*upstream) / static_cast<double>(rows))
                   : 0.0f;
  });
}

}  // namespace

void log_softmax_forward(const float* x, float* y, int64_t rows, int64_t cols,
                         cudaStream_t stream) {
  IMX_LAUNCH_BY_UNIT(log_softmax_forward_kernel, cols <= kMaxWarpRow, WarpUnit, BlockUnit, rows,
                     stream, x, y, rows, cols);
}

void log_softmax_backward(const float* y, const float* gy, float* gx, int64_t rows,
                          int64_t cols, cudaStream_t stream) {
  IMX_LAUNCH_BY_UNIT(log_softmax_backward_kernel, cols <= kMaxWarpRow, WarpUnit, BlockUnit, rows,
                     stream, y, gy, gx, rows, cols);
}

void nll_forward(const float* logp, const int32_t* labels, int64_t rows, int64_t cols,
                 float* loss, cudaStream_t stream) {
  IMX_LAUNCH(nll_forward_kernel, 1, kBlock, 0, stream)(logp, labels, rows, cols, loss);
}

void nll_backward(const int32_t* labels, int64_t rows, int64_t cols, const float* upstream,
                  float* glogp, cudaStream_t stream) {
  if (rows * cols <= 0) return;
  IMX_LAUNCH(nll_backward_kernel, blocks_for(rows * cols, kBlock), kBlock, 0, stream)(
      labels, rows, cols, upstream, glogp);
}

}  // namespace imx::IMX_KNS
