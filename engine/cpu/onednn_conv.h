// float32 CPU convolutions through oneDNN's direct-convolution kernels, on the engine's NCHW
// tensors and OIHW filters.
//
// Why: the im2col path (engine/cpu/conv.cpp) copies every input k*k times and then runs a
// product at OpenBLAS's or oneDNN's sgemm rate. oneDNN's direct kernels work on channel-blocked
// layouts (16 channels innermost) with no column buffer, and run the DCGAN layers at or above
// the 2048^3 sgemm rate. Inputs, outputs and filters are reordered between NCHW/OIHW and the
// layouts the kernel asks for on every call (a few MB per layer; no reorder where they match).
//
// Each geometry's primitives are created once (JIT code) and cached; every buffer (reordered
// tensors, oneDNN's scratchpad) comes from the caching allocator, so it counts in the memory
// statistics and a steady-state step maps no fresh pages. Forward and data
// gradients sum every output in one fixed order, so their bits do not depend on the thread
// count; the filter gradient reduces across threads and repeats bit for bit at a fixed count.
#pragma once
#include "engine/cpu/conv_library.h"

namespace imx::cpu {

// Whether this build has oneDNN and oneDNN has kernels for this geometry (conv_library.h
// decides which passes run here).
bool onednn_conv_available(const ConvGeometry& g);

// y[n, c_out, h_out, w_out] = conv(x[n, c_in, h_in, w_in], w[c_out, c_in, kh, kw]) (no bias).
void onednn_conv_forward(const ConvGeometry& g, const float* x, const float* w, float* y);
// gx = the gradient of the input (overwritten).
void onednn_conv_backward_data(const ConvGeometry& g, const float* gy, const float* w, float* gx);
// gw = the gradient of the filter (overwritten).
void onednn_conv_backward_filter(const ConvGeometry& g, const float* x, const float* gy, float* gw);

}  // namespace imx::cpu
