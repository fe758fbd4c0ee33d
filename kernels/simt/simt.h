// The one header every hand-written kernel source includes.
//
//  * nvcc (__CUDACC__): real CUDA. IMX_KNS is `cuda`.
//  * g++ with IMX_SIMT_EMU (set by the *_emu targets of imx_add_kernel_library): the same
//    source runs on the CPU, one fiber per GPU thread. IMX_KNS is `emu`.
//  * g++ with IMX_SIMT_CUDA_HOST (set for users of the *_cuda targets): host code that only
//    declares (and calls) the launchers of the CUDA build. IMX_KNS is `cuda`.
//
// Kernel sources wrap kernels and launchers in `namespace imx::IMX_KNS { ... }` so that both
// builds of one source can be linked into the same binary. See kernels/README.md.
#pragma once

#if defined(__CUDACC__)

#include <cuda_runtime.h>

#define IMX_SIMT_CUDA 1
#define IMX_KNS cuda
#define IMX_KERNEL __global__
#define IMX_DEVICE __device__ inline
#define IMX_HD __host__ __device__ inline
// extern __shared__ with one element type per translation unit would clash between kernels,
// hence raw bytes, 16-byte aligned like the device guarantees.
#define IMX_DYNAMIC_SHARED(T, name)                                      \
  extern __shared__ __align__(16) unsigned char imx_dynamic_shared_[]; \
  T* name = reinterpret_cast<T*>(imx_dynamic_shared_)
#define IMX_LAUNCH(kernel, grid, block, shmem_bytes, stream) kernel<<<(grid), (block), (shmem_bytes), (stream)>>>
// Static shared memory; T may be an array type (float[32]), hence the alias.
namespace imx::simt {
template <class T>
using SharedType = T;
}
#define IMX_SHARED(T, name) __shared__ ::imx::simt::SharedType<T> name

#elif defined(IMX_SIMT_EMU)

#if defined(IMX_SIMT_CUDA_HOST)
#error "simt.h: IMX_SIMT_EMU and IMX_SIMT_CUDA_HOST are both defined; a translation unit sees one build of the kernels (split it into two files)"
#endif

#include "kernels/simt/emu/config.h"
#include "kernels/simt/emu/device_api.h"
#include "kernels/simt/emu/error.h"
#include "kernels/simt/emu/launch.h"
#include "kernels/simt/emu/runtime_api.h"
#include "kernels/simt/emu/types.h"

#define IMX_KNS emu
#define IMX_KERNEL
#define IMX_DEVICE inline
#define IMX_HD inline
#define IMX_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(::imx::simt::detail::dynamic_shared_memory())
// A per-OS-thread slot, poisoned (0xFF) at each block's first access (emu/launch.h).
#define IMX_SHARED(T, name)                                                     \
  static thread_local ::imx::simt::detail::StaticShared<T> imx_static_shared_##name; \
  ::imx::simt::SharedType<T>& name = imx_static_shared_##name.get()
#define IMX_LAUNCH(kernel, grid, block, shmem_bytes, stream) \
  ::imx::simt::detail::make_launch(kernel, #kernel, (grid), (block), (shmem_bytes), (stream))

// Raw CUDA qualifiers, for code that spells them out. Raw __shared__ is refused: as a plain
// per-OS-thread static it would start at zero and keep one block's contents for the next,
// so a kernel reading shared memory before writing it would pass here and fail on the device.
// IMX_SHARED declares the same memory, poisoned at every block.
#define __global__
#define __device__
#define __host__
#define __constant__
#define __shared__                                                                            \
  static_assert(false, "SIMT emulation: declare static shared memory with IMX_SHARED(T, name) " \
                       "(poisoned per block), not raw __shared__ (kernels/README.md, rule 2)");
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)

#define threadIdx (::imx::simt::detail::current_thread_idx())
#define blockIdx (::imx::simt::detail::current_block().block_idx)
#define blockDim (::imx::simt::detail::current_block().block_dim)
#define gridDim (::imx::simt::detail::current_block().grid_dim)
// Internal linkage (constexpr), so it never collides with anything in a CUDA object file.
constexpr int warpSize = 32;

using imx::simt::dim3;
using imx::simt::double2;
using imx::simt::float2;
using imx::simt::float3;
using imx::simt::float4;
using imx::simt::int2;
using imx::simt::int3;
using imx::simt::int4;
using imx::simt::uint2;
using imx::simt::uint3;
using imx::simt::uint4;
using imx::simt::make_double2;
using imx::simt::make_float2;
using imx::simt::make_float3;
using imx::simt::make_float4;
using imx::simt::make_int2;
using imx::simt::make_int3;
using imx::simt::make_int4;
using imx::simt::make_uint2;
using imx::simt::make_uint3;
using imx::simt::make_uint4;

using namespace imx::simt::device_api;   // __syncthreads, __shfl_*_sync, atomicAdd, min, ...
using namespace imx::simt::runtime_api;  // cudaMalloc, cudaMemcpy, cudaStream_t, ...

#elif defined(IMX_SIMT_CUDA_HOST)

// Host code of the CUDA build: only launcher declarations may follow, not kernels.
// cuda_runtime.h (not _api.h) for the same host API as the emulation (templated cudaMalloc).
#include <cuda_runtime.h>
#define IMX_KNS cuda

#else
#error "simt.h: compile kernel sources with nvcc, or with g++ and IMX_SIMT_EMU (imx_add_kernel_library does this), or include them from host code of the CUDA build with IMX_SIMT_CUDA_HOST"
#endif
