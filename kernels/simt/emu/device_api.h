// The device-side CUDA built-ins for the emulation build: barriers, warp collectives,
// atomics, fences and the math/bit intrinsics kernels use. Every barrier and collective
// records its call site (std::source_location) so that misuse is reported with file:line.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <math.h>
#include <source_location>
#include <type_traits>

#include "kernels/simt/emu/launch.h"

namespace imx::simt::detail {

enum class BlockOp : std::uint8_t { Sync, Count, And, Or };

enum class WarpOp : std::uint8_t {
  Sync,
  ShflIdx,
  ShflUp,
  ShflDown,
  ShflXor,
  Ballot,
  Any,
  All,
  ReduceAddU,
  ReduceMinU,
  ReduceMaxU,
  ReduceAddI,
  ReduceMinI,
  ReduceMaxI,
  ReduceAnd,
  ReduceOr,
  ReduceXor,
};

// Both suspend the calling GPU thread until its block (warp group) arrives, then return the
// collective's result for this thread. They throw SimtError outside a kernel. `frame` is the
// caller's frame address (IMX_SIMT_FRAME): with the return address of the call it identifies
// the *call* of the barrier, not only its source line, so that two calls of one helper that
// holds a barrier are two different barriers (see call_path in block_scheduler.cpp).
int block_barrier(BlockOp op, int predicate, const std::source_location& where, const void* frame);
std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int param, int width,
                              const std::source_location& where, const void* frame);
#define IMX_SIMT_FRAME __builtin_frame_address(0)

template <class T>
T shuffle(WarpOp op, unsigned mask, T var, int param, int width, const std::source_location& where,
          const void* frame) {
  static_assert(std::is_arithmetic_v<T> && sizeof(T) <= 8,
                "__shfl_*_sync: only arithmetic types of at most 8 bytes are emulated");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  const std::uint64_t out = warp_collective(op, mask, bits, param, width, where, frame);
  T result;
  std::memcpy(&result, &out, sizeof(T));
  return result;
}

// CUDA atomics are relaxed; acq_rel here keeps ThreadSanitizer from reporting the usual
// "atomic counter + __threadfence" patterns it cannot model (fences are not emulated).
inline constexpr std::memory_order kAtomicOrder = std::memory_order_acq_rel;

template <class T, class Update>
T atomic_update(T* address, Update update) {
  std::atomic_ref<T> ref(*address);
  T old = ref.load(std::memory_order_relaxed);
  while (!ref.compare_exchange_weak(old, update(old), kAtomicOrder, std::memory_order_relaxed)) {
  }
  return old;
}

}  // namespace imx::simt::detail

// glibc's <math.h> already declares these CUDA fast-math names (with C linkage) but does
// not export them; the emulation library defines them (fast_math.cpp), so kernels call them
// exactly as on the device. Redeclared here so that a libc without them works too.
extern "C" {
float __expf(float) noexcept;
float __logf(float) noexcept;
float __log2f(float) noexcept;
float __log10f(float) noexcept;
float __powf(float, float) noexcept;
float __sinf(float) noexcept;
float __cosf(float) noexcept;
float __tanf(float) noexcept;
}

// Named like the CUDA built-ins; simt.h imports them into the global namespace of emulation
// translation units only.
namespace imx::simt::device_api {

using std::source_location;

inline void __syncthreads(source_location where = source_location::current()) {
  detail::block_barrier(detail::BlockOp::Sync, 1, where, IMX_SIMT_FRAME);
}
inline int __syncthreads_count(int predicate, source_location where = source_location::current()) {
  return detail::block_barrier(detail::BlockOp::Count, predicate, where, IMX_SIMT_FRAME);
}
inline int __syncthreads_and(int predicate, source_location where = source_location::current()) {
  return detail::block_barrier(detail::BlockOp::And, predicate, where, IMX_SIMT_FRAME);
}
inline int __syncthreads_or(int predicate, source_location where = source_location::current()) {
  return detail::block_barrier(detail::BlockOp::Or, predicate, where, IMX_SIMT_FRAME);
}

inline void __syncwarp(unsigned mask = 0xffffffffu, source_location where = source_location::current()) {
  detail::warp_collective(detail::WarpOp::Sync, mask, 0, 0, 32, where, IMX_SIMT_FRAME);
}

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = 32,
              source_location where = source_location::current()) {
  return detail::shuffle(detail::WarpOp::ShflIdx, mask, var, src_lane, width, where, IMX_SIMT_FRAME);
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32,
                 source_location where = source_location::current()) {
  return detail::shuffle(detail::WarpOp::ShflUp, mask, var, static_cast<int>(delta), width, where, IMX_SIMT_FRAME);
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32,
                   source_location where = source_location::current()) {
  return detail::shuffle(detail::WarpOp::ShflDown, mask, var, static_cast<int>(delta), width, where, IMX_SIMT_FRAME);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32,
                  source_location where = source_location::current()) {
  return detail::shuffle(detail::WarpOp::ShflXor, mask, var, lane_mask, width, where, IMX_SIMT_FRAME);
}

inline unsigned __ballot_sync(unsigned mask, int predicate, source_location where = source_location::current()) {
  return static_cast<unsigned>(
      detail::warp_collective(detail::WarpOp::Ballot, mask, predicate != 0, 0, 32, where, IMX_SIMT_FRAME));
}
inline int __any_sync(unsigned mask, int predicate, source_location where = source_location::current()) {
  return static_cast<int>(detail::warp_collective(detail::WarpOp::Any, mask, predicate != 0, 0, 32, where, IMX_SIMT_FRAME));
}
inline int __all_sync(unsigned mask, int predicate, source_location where = source_location::current()) {
  return static_cast<int>(detail::warp_collective(detail::WarpOp::All, mask, predicate != 0, 0, 32, where, IMX_SIMT_FRAME));
}

// sm_80+ warp reductions.
inline unsigned __reduce_add_sync(unsigned mask, unsigned value, source_location where = source_location::current()) {
  return static_cast<unsigned>(detail::warp_collective(detail::WarpOp::ReduceAddU, mask, value, 0, 32, where, IMX_SIMT_FRAME));
}
inline int __reduce_add_sync(unsigned mask, int value, source_location where = source_location::current()) {
  return static_cast<int>(detail::warp_collective(detail::WarpOp::ReduceAddI, mask,
                                                  static_cast<std::uint32_t>(value), 0, 32, where, IMX_SIMT_FRAME));
}
inline unsigned __reduce_min_sync(unsigned mask, unsigned value, source_location where = source_location::current()) {
  return static_cast<unsigned>(detail::warp_collective(detail::WarpOp::ReduceMinU, mask, value, 0, 32, where, IMX_SIMT_FRAME));
}
inline int __reduce_min_sync(unsigned mask, int value, source_location where = source_location::current()) {
  return static_cast<int>(detail::warp_collective(detail::WarpOp::ReduceMinI, mask,
                                                  static_cast<std::uint32_t>(value), 0, 32, where, IMX_SIMT_FRAME));
}
inline unsigned __reduce_max_sync(unsigned mask, unsigned value, source_location where = source_location::current()) {
  return static_cast<unsigned>(detail::warp_collective(detail::WarpOp::ReduceMaxU, mask, value, 0, 32, where, IMX_SIMT_FRAME));
}
inline int __reduce_max_sync(unsigned mask, int value, source_location where = source_location::current()) {
  return static_cast<int>(detail::warp_collective(detail::WarpOp::ReduceMaxI, mask,
                                                  static_cast<std::uint32_t>(value), 0, 32, where, IMX_SIMT_FRAME));
}
inline unsigned __reduce_and_sync(unsigned mask, unsigned value, source_location where = source_location::current()) {
  return static_cast<unsigned>(detail::warp_collective(detail::WarpOp::ReduceAnd, mask, value, 0, 32, where, IMX_SIMT_FRAME));
}
inline unsigned __reduce_or_sync(unsigned mask, unsigned value, source_location where = source_location::current()) {
  return static_cast<unsigned>(detail::warp_collective(detail::WarpOp::ReduceOr, mask, value, 0, 32, where, IMX_SIMT_FRAME));
}
inline unsigned __reduce_xor_sync(unsigned mask, unsigned value, source_location where = source_location::current()) {
  return static_cast<unsigned>(detail::warp_collective(detail::WarpOp::ReduceXor, mask, value, 0, 32, where, IMX_SIMT_FRAME));
}

// Fences: blocks of one launch may run on different OS threads, so they are real fences.
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// Atomics: the overload sets of CUDA (sm_90), no more, so that code which would not compile
// for the device does not compile here either. Each returns the old value.
inline int atomicAdd(int* a, int v) { return std::atomic_ref<int>(*a).fetch_add(v, detail::kAtomicOrder); }
inline unsigned atomicAdd(unsigned* a, unsigned v) { return std::atomic_ref<unsigned>(*a).fetch_add(v, detail::kAtomicOrder); }
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
  return std::atomic_ref<unsigned long long>(*a).fetch_add(v, detail::kAtomicOrder);
}
inline float atomicAdd(float* a, float v) { return std::atomic_ref<float>(*a).fetch_add(v, detail::kAtomicOrder); }
inline double atomicAdd(double* a, double v) { return std::atomic_ref<double>(*a).fetch_add(v, detail::kAtomicOrder); }

inline int atomicSub(int* a, int v) { return std::atomic_ref<int>(*a).fetch_sub(v, detail::kAtomicOrder); }
inline unsigned atomicSub(unsigned* a, unsigned v) { return std::atomic_ref<unsigned>(*a).fetch_sub(v, detail::kAtomicOrder); }

inline int atomicExch(int* a, int v) { return std::atomic_ref<int>(*a).exchange(v, detail::kAtomicOrder); }
inline unsigned atomicExch(unsigned* a, unsigned v) { return std::atomic_ref<unsigned>(*a).exchange(v, detail::kAtomicOrder); }
inline unsigned long long atomicExch(unsigned long long* a, unsigned long long v) {
  return std::atomic_ref<unsigned long long>(*a).exchange(v, detail::kAtomicOrder);
}
inline float atomicExch(float* a, float v) { return std::atomic_ref<float>(*a).exchange(v, detail::kAtomicOrder); }

#define IMX_SIMT_ATOMIC_MINMAX(T)                                                              \
  inline T atomicMin(T* a, T v) { return detail::atomic_update(a, [v](T o) { return v < o ? v : o; }); } \
  inline T atomicMax(T* a, T v) { return detail::atomic_update(a, [v](T o) { return v > o ? v : o; }); }
IMX_SIMT_ATOMIC_MINMAX(int)
IMX_SIMT_ATOMIC_MINMAX(unsigned)
IMX_SIMT_ATOMIC_MINMAX(long long)
IMX_SIMT_ATOMIC_MINMAX(unsigned long long)
#undef IMX_SIMT_ATOMIC_MINMAX

#define IMX_SIMT_ATOMIC_BITS(T)                                                                \
  inline T atomicAnd(T* a, T v) { return std::atomic_ref<T>(*a).fetch_and(v, detail::kAtomicOrder); } \
  inline T atomicOr(T* a, T v) { return std::atomic_ref<T>(*a).fetch_or(v, detail::kAtomicOrder); }   \
  inline T atomicXor(T* a, T v) { return std::atomic_ref<T>(*a).fetch_xor(v, detail::kAtomicOrder); }
IMX_SIMT_ATOMIC_BITS(int)
IMX_SIMT_ATOMIC_BITS(unsigned)
IMX_SIMT_ATOMIC_BITS(unsigned long long)
#undef IMX_SIMT_ATOMIC_BITS

inline unsigned atomicInc(unsigned* a, unsigned limit) {
  return detail::atomic_update(a, [limit](unsigned o) { return o >= limit ? 0u : o + 1u; });
}
inline unsigned atomicDec(unsigned* a, unsigned limit) {
  return detail::atomic_update(a, [limit](unsigned o) { return (o == 0u || o > limit) ? limit : o - 1u; });
}

#define IMX_SIMT_ATOMIC_CAS(T)                                                        \
  inline T atomicCAS(T* a, T compare, T value) {                                      \
    std::atomic_ref<T>(*a).compare_exchange_strong(compare, value, detail::kAtomicOrder, \
                                                   std::memory_order_relaxed);        \
    return compare;                                                                   \
  }
IMX_SIMT_ATOMIC_CAS(int)
IMX_SIMT_ATOMIC_CAS(unsigned)
IMX_SIMT_ATOMIC_CAS(unsigned long long)
IMX_SIMT_ATOMIC_CAS(unsigned short)
#undef IMX_SIMT_ATOMIC_CAS

// Math intrinsics. The fast-math variants compute the accurate function: the emulation is
// a reference for logic, not for the last bits of GPU arithmetic (compare with tolerances).
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fmaf_rn(float x, float y, float z) { return std::fma(x, y, z); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x == x ? x : 0.0f)); }

inline int __float_as_int(float x) { int r; std::memcpy(&r, &x, 4); return r; }
inline unsigned __float_as_uint(float x) { unsigned r; std::memcpy(&r, &x, 4); return r; }
inline float __int_as_float(int x) { float r; std::memcpy(&r, &x, 4); return r; }
inline float __uint_as_float(unsigned x) { float r; std::memcpy(&r, &x, 4); return r; }
inline long long __double_as_longlong(double x) { long long r; std::memcpy(&r, &x, 8); return r; }
inline double __longlong_as_double(long long x) { double r; std::memcpy(&r, &x, 8); return r; }
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
  return (x >> 16) | (x << 16);
}
inline int __mul24(int x, int y) { return x * y; }
inline unsigned __umul24(unsigned x, unsigned y) { return x * y; }
inline unsigned __umulhi(unsigned x, unsigned y) {
  return static_cast<unsigned>((static_cast<unsigned long long>(x) * y) >> 32);
}
inline int __mulhi(int x, int y) { return static_cast<int>((static_cast<long long>(x) * y) >> 32); }

// CUDA's device-side min/max overloads (kernels call them unqualified).
#define IMX_SIMT_MINMAX(T)                              \
  inline T min(T a, T b) { return b < a ? b : a; }      \
  inline T max(T a, T b) { return a < b ? b : a; }
IMX_SIMT_MINMAX(int)
IMX_SIMT_MINMAX(unsigned)
IMX_SIMT_MINMAX(long)
IMX_SIMT_MINMAX(unsigned long)
IMX_SIMT_MINMAX(long long)
IMX_SIMT_MINMAX(unsigned long long)
#undef IMX_SIMT_MINMAX
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }

template <class T>
T __ldg(const T* p) { return *p; }

}  // namespace imx::simt::device_api
