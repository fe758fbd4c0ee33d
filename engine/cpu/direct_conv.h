// A direct float32 CPU convolution for first layers (few input channels, such as an RGB image),
// on the engine's NCHW tensors and OIHW filters: the forward pass and the filter gradient.
//
// Why: oneDNN's kernels for such a layer (DCGAN's 3 -> 64, 4x4, stride 2) run near the product
// ceiling, but its output and output gradient are reordered between NCHW and oneDNN's blocked
// layout on every call, about 40% of the layer's time; im2col runs it at well under half the
// ceiling. Here the vector lanes are 16 adjacent output columns, so the output is written and
// the output gradient read in place. Each image's input is copied once into a zero-padded
// buffer split by column phase (column ix goes to phase ix mod stride), where the 16 input
// pixels one tap needs for 16 output columns are contiguous: one vector load.
//
// Built only where the compiler targets AVX-512 (the kernels hold 24 accumulators of 16 floats
// in the 32 vector registers); elsewhere direct_conv_fits() is false and nothing runs here.
// The forward pass sums every output in one fixed order; the filter gradient reduces across
// threads in thread order, so it repeats bit for bit at a fixed thread count.
#pragma once
#include "engine/kernel_types.h"

namespace imx::cpu {

// Whether this build has the kernels and the geometry is a first layer they suit: at most
// kDirectMaxTaps taps per output (c_in * kh * kw), fewer than 8 input channels.
constexpr int64_t kDirectMaxTaps = 256;
bool direct_conv_fits(const ConvGeometry& g);

// y[n, c_out, h_out, w_out] = conv(x[n, c_in, h_in, w_in], w[c_out, c_in, kh, kw]) (no bias).
void direct_conv_forward(const ConvGeometry& g, const float* x, const float* w, float* y);
// gw = the gradient of the filter (overwritten).
void direct_conv_backward_filter(const ConvGeometry& g, const float* x, const float* gy, float* gw);

}  // namespace imx::cpu
