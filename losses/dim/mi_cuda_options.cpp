// The CUDA MI options and the path choice (mi_cuda_bridge.h): plain host logic, built with and
// without CUDA so that it is tested everywhere.
#include <cstdlib>
#include <mutex>
#include <string>

#include "engine/tensor.h"
#include "losses/dim/mi_cuda_bridge.h"

namespace imx::detail {

const char* mi_cuda_path_name(MiCudaPath p) {
  switch (p) {
    case MiCudaPath::blas: return "blas";
    case MiCudaPath::fused: return "fused";
    case MiCudaPath::unfused: return "unfused";
  }
  return "?";
}

const char* mi_cuda_precision_name(MiCudaPrecision p) {
  switch (p) {
    case MiCudaPrecision::fp32: return "fp32";
    case MiCudaPrecision::tf32: return "tf32";
    case MiCudaPrecision::bf16: return "bf16";
  }
  return "?";
}

MiCudaOptions mi_cuda_options_from(const char* budget_mb, const char* precision) {
  MiCudaOptions o;
  if (budget_mb != nullptr && *budget_mb != '\0') {
    char* end = nullptr;
    const double mb = std::strtod(budget_mb, &end);
    check(end != budget_mb && *end == '\0' && mb >= 0, "mi_loss",
          std::string("IMX_MI_CUDA_BLAS_BUDGET_MB must be a number of MiB >= 0, got '") + budget_mb + "'");
    o.blas_budget_bytes = static_cast<std::size_t>(mb * 1024.0 * 1024.0);
  }
  if (precision != nullptr && *precision != '\0') {
    const std::string p = precision;
    if (p == "fp32") o.precision = MiCudaPrecision::fp32;
    else if (p == "tf32") o.precision = MiCudaPrecision::tf32;
    else if (p == "bf16") o.precision = MiCudaPrecision::bf16;
    else fail("mi_loss", "IMX_MI_CUDA_PRECISION must be fp32, tf32 or bf16, got '" + p + "'");
  }
  return o;
}

namespace {
std::mutex options_mu;
bool options_read = false;
MiCudaOptions options_value;
}  // namespace

MiCudaOptions mi_cuda_options() {
  std::lock_guard<std::mutex> lock(options_mu);
  if (!options_read) {
    options_value = mi_cuda_options_from(std::getenv("IMX_MI_CUDA_BLAS_BUDGET_MB"), std::getenv("IMX_MI_CUDA_PRECISION"));
    options_read = true;
  }
  return options_value;
}

void set_mi_cuda_options(const MiCudaOptions& options) {
  std::lock_guard<std::mutex> lock(options_mu);
  options_value = options;
  options_read = true;
}

MiCudaPath choose_mi_cuda_path(const mi::Problem& pb, mi::Impl impl, const MiCudaOptions& options) {
  check(impl != mi::Impl::naive, "mi_loss", "the naive implementation runs on the CPU only");
  if (impl == mi::Impl::unfused) return MiCudaPath::unfused;
  const double score_bytes = 4.0 * double(pb.rows()) * double(pb.cols());
  return score_bytes <= double(options.blas_budget_bytes) ? MiCudaPath::blas : MiCudaPath::fused;
}

}  // namespace imx::detail
