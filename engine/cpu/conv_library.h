// Which implementation runs each float32 CPU convolution pass (float64, the reference, always
// runs im2col). The three: im2col + a product (engine/cpu/conv.cpp), oneDNN's direct kernels
// (onednn_conv.h) and this project's first-layer kernel (direct_conv.h).
#pragma once
#include "engine/kernel_types.h"

namespace imx::cpu {

// The setting, from IMX_CONV (auto, im2col, onednn) at first use, or from set_conv_library.
// `automatic` (the default) picks per pass:
//   - the first-layer kernel for the forward pass and filter gradient of layers it fits
//     (fewer than 8 input channels, a build that targets AVX-512): oneDNN's kernels are as fast
//     there, but reordering the output and its gradient to and from oneDNN's blocked layout
//     cost ~40% of the layer;
//   - oneDNN where this build has it, except the data gradient of layers with fewer than 8
//     input channels, where its kernel ran at ~40 GFLOP/s, well below im2col;
//   - im2col for the rest.
// `im2col` and `onednn` force one library for every pass (for comparisons).
enum class ConvLibrary { automatic, im2col, onednn };
ConvLibrary conv_library();
void set_conv_library(ConvLibrary library);
const char* conv_library_name(ConvLibrary library);

// The three passes a convolution needs, and the kernels that can run them.
enum class ConvPass { forward, backward_data, backward_filter };
enum class ConvKernel { im2col, onednn, direct };
// The kernel that runs this float32 pass of this geometry under the current setting.
ConvKernel conv_kernel(const ConvGeometry& g, ConvPass pass);
const char* conv_kernel_name(ConvKernel kernel);  // im2col, onednn, direct

}  // namespace imx::cpu
