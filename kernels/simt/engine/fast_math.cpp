// Definitions of the CUDA fast-math intrinsics that glibc declares (in <math.h>) but does not
// export. They compute the accurate functions.
#include <cmath>
#include <math.h>

#include "kernels/simt/emu/device_api.h"

extern "C" {
float __expf(float x) noexcept { return std::exp(x); }
float __logf(float x) noexcept { return std::log(x); }
float __log2f(float x) noexcept { return std::log2(x); }
float __log10f(float x) noexcept { return std::log10(x); }
float __powf(float x, float y) noexcept { return std::pow(x, y); }
float __sinf(float x) noexcept { return std::sin(x); }
float __cosf(float x) noexcept { return std::cos(x); }
float __tanf(float x) noexcept { return std::tan(x); }
}
