#include "engine/cpu/conv_library.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "engine/cpu/direct_conv.h"
#include "engine/cpu/onednn_conv.h"

namespace imx::cpu {

namespace {

ConvLibrary library_from_env() {
  const char* v = std::getenv("IMX_CONV");
  const std::string s = v ? v : "";
  if (s.empty() || s == "auto") return ConvLibrary::automatic;
  if (s == "im2col") return ConvLibrary::im2col;
  if (s == "onednn") {
#ifndef IMX_HAVE_ONEDNN
    throw std::runtime_error("IMX_CONV=onednn: this build has no oneDNN (install libdnnl-dev, rebuild)");
#endif
    return ConvLibrary::onednn;
  }
  throw std::runtime_error("IMX_CONV=" + s + ": expected auto, im2col or onednn");
}

std::atomic<ConvLibrary>& library_setting() {
  static std::atomic<ConvLibrary> setting{library_from_env()};
  return setting;
}

}  // namespace

ConvLibrary conv_library() { return library_setting().load(); }

void set_conv_library(ConvLibrary library) {
#ifndef IMX_HAVE_ONEDNN
  if (library == ConvLibrary::onednn) throw std::runtime_error("set_conv_library(onednn): this build has no oneDNN");
#endif
  library_setting().store(library);
}

const char* conv_library_name(ConvLibrary library) {
  switch (library) {
    case ConvLibrary::automatic: return "auto";
    case ConvLibrary::im2col: return "im2col";
    case ConvLibrary::onednn: return "onednn";
  }
  return "?";
}

const char* conv_kernel_name(ConvKernel kernel) {
  switch (kernel) {
    case ConvKernel::im2col: return "im2col";
    case ConvKernel::onednn: return "onednn";
    case ConvKernel::direct: return "direct";
  }
  return "?";
}

ConvKernel conv_kernel(const ConvGeometry& g, ConvPass pass) {
  switch (conv_library()) {
    case ConvLibrary::im2col: return ConvKernel::im2col;
    case ConvLibrary::onednn: return ConvKernel::onednn;  // says so where oneDNN has no kernel
    case ConvLibrary::automatic:
      if (pass != ConvPass::backward_data && direct_conv_fits(g)) return ConvKernel::direct;
      if ((pass != ConvPass::backward_data || g.c_in >= 8) && onednn_conv_available(g)) return ConvKernel::onednn;
      return ConvKernel::im2col;
  }
  return ConvKernel::im2col;
}

}  // namespace imx::cpu
