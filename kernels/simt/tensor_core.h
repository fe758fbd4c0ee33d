// Tensor-core building blocks for kernel sources, in both builds:
//   * warp matrix fragments: `imx::tensor_core::wmma` is nvcuda::wmma under nvcc and the
//     emulation's scrambled-layout fragments (kernels/simt/emu/fragment.h) otherwise;
//   * cp.async through CUDA's pipeline primitives (__pipeline_memcpy_async, __pipeline_commit,
//     __pipeline_wait_prior), asynchronous in the emulation too (kernels/simt/emu/async_copy.h);
//   * __nv_bfloat16 with __float2bfloat16 / __bfloat162float, and wmma::__float_to_tf32.
// Include it after (or instead of) kernels/simt/simt.h. See kernels/README.md.
#pragma once

#include "kernels/simt/simt.h"

#if defined(IMX_SIMT_CUDA)

#include <cuda_bf16.h>
#include <cuda_pipeline_primitives.h>
#include <mma.h>

namespace imx::tensor_core {
namespace wmma = nvcuda::wmma;
}  // namespace imx::tensor_core

#elif defined(IMX_SIMT_EMU)

#include "kernels/simt/emu/async_copy.h"
#include "kernels/simt/emu/fragment.h"

using __nv_bfloat16 = imx::simt::bfloat16;

namespace imx::tensor_core {
namespace wmma = imx::simt::wmma;
}  // namespace imx::tensor_core

#else
#error "kernels/simt/tensor_core.h is for kernel sources (nvcc or the emulation build)"
#endif
