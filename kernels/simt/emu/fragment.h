// Warp matrix fragments (the wmma API of <mma.h>: fragment, load_matrix_sync, mma_sync,
// store_matrix_sync, fill_fragment) and the bfloat16 / tf32 conversions, for the emulation.
//
// CUDA leaves the map from a tile's elements to (lane, slot) of a fragment unspecified. Here
// it is a fixed pseudo-random permutation per fragment type, different for every use, shape
// and layout, so code that reads or writes frag.x[i] assuming the hardware's layout (an
// epilogue that applies row statistics to accumulator slots, say) computes garbage and fails
// its reference check, while code that goes through load/store/mma, or treats slots
// uniformly (fill, a conversion of every element), works as on the device.
//
// load/store/mma are warp collectives, as on the device: all 32 lanes of the warp call them at
// the same line (checked like a shuffle), with the same pointer and leading dimension (checked:
// SimtError otherwise), pointers 32-byte aligned and ldm a multiple of 16 bytes (checked).
// mma_sync exchanges the lanes' slots through per-warp scratch between two __syncwarp, then
// every lane forms its output slots in float32, k ascending (fmaf).
#pragma once

// simt.h defines __noinline__ for kernel code; libstdc++ spells the attribute that way too.
#pragma push_macro("__noinline__")
#undef __noinline__
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <source_location>
#include <string>
#include <type_traits>
#pragma pop_macro("__noinline__")

#include "kernels/simt/emu/async_copy.h"
#include "kernels/simt/emu/device_api.h"
#include "kernels/simt/emu/error.h"

namespace imx::simt {

// bfloat16 storage (CUDA's __nv_bfloat16; simt.h imports it under that name).
struct bfloat16 {
  std::uint16_t bits;
};

}  // namespace imx::simt

namespace imx::simt::device_api {

// Round to nearest even, as __float2bfloat16 (NaN stays NaN).
inline bfloat16 __float2bfloat16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu) != 0) return bfloat16{static_cast<std::uint16_t>((u >> 16) | 0x40u)};
  u += 0x7FFFu + ((u >> 16) & 1u);
  return bfloat16{static_cast<std::uint16_t>(u >> 16)};
}
inline float __bfloat162float(bfloat16 h) {
  const std::uint32_t u = std::uint32_t(h.bits) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
}  // namespace imx::simt::device_api

namespace imx::simt::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
namespace precision {
struct tf32 {};
}  // namespace precision

// To tf32 (10 explicit mantissa bits), round to nearest with ties away from zero, as
// wmma::__float_to_tf32 (cvt.rna.tf32.f32); the result is a float with the low 13 bits clear.
inline float __float_to_tf32(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7F800000u) != 0x7F800000u) u = (u + 0x1000u) & 0xFFFFE000u;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}


namespace detail {

template <class Use, int M, int N, int K>
constexpr int frag_rows = std::is_same_v<Use, matrix_b> ? K : M;
template <class Use, int M, int N, int K>
constexpr int frag_cols = std::is_same_v<Use, matrix_a> ? K : N;

// Elements are stored as float in the fragment (tf32 operands are floats on the device too);
// bf16 fragments keep bfloat16 slots so that frag.x[i] has CUDA's type.
template <class T>
using storage_t = std::conditional_t<std::is_same_v<T, precision::tf32>, float, T>;

// What the tensor core reads of a slot: tf32 operands lose their low 13 mantissa bits (the
// hardware ignores them, so skipping __float_to_tf32 truncates instead of rounding).
template <class T>
float widen(float v) {
  if constexpr (std::is_same_v<T, precision::tf32>) {
    std::uint32_t u;
    std::memcpy(&u, &v, 4);
    u &= 0xFFFFE000u;
    std::memcpy(&v, &u, 4);
  }
  return v;
}
template <class T>
float widen(bfloat16 v) { return device_api::__bfloat162float(v); }

// The permutation of a fragment type: element e (row-major within the tile) sits at
// position perm[e] = lane * slots + slot. Fisher-Yates over a splitmix64 stream seeded by
// the type's parameters.
template <int kElements>
std::array<std::uint16_t, kElements> make_permutation(std::uint64_t seed) {
  std::array<std::uint16_t, kElements> p{};
  for (int i = 0; i < kElements; ++i) p[i] = static_cast<std::uint16_t>(i);
  std::uint64_t x = seed;
  for (int i = kElements - 1; i > 0; --i) {
    x += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const int j = static_cast<int>(z % static_cast<std::uint64_t>(i + 1));
    const std::uint16_t t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

template <class Use, class Layout>
constexpr std::uint64_t kind_seed() {
  const std::uint64_t use = std::is_same_v<Use, matrix_a> ? 1 : std::is_same_v<Use, matrix_b> ? 2 : 3;
  const std::uint64_t layout = std::is_same_v<Layout, row_major> ? 1 : std::is_same_v<Layout, col_major> ? 2 : 3;
  return use * 131 + layout * 17;
}

// Per-warp scratch for mma_sync: room for the largest operands (16x16 + 16x16 + 16x16).
inline constexpr int kScratchPerWarp = 3 * 256;
// (Its contents are ordered by the two __syncwarp of mma_sync; only the pointer's lazy
// creation is bookkeeping.)
inline float* warp_scratch(unsigned warp) {
  const simt::detail::UnseenBySanitizer bookkeeping;
  static thread_local std::unique_ptr<float[]> scratch(new float[32 * kScratchPerWarp]);
  return scratch.get() + static_cast<std::size_t>(warp) * kScratchPerWarp;
}

inline unsigned lane_id() { return simt::detail::linear_thread_id() % 32u; }
inline unsigned warp_id() { return simt::detail::linear_thread_id() / 32u; }

[[noreturn]] inline void misuse(const char* op, const std::string& what, const std::source_location& where) {
  throw SimtError(std::string("SIMT emulation: ") + op + " at " + where.file_name() + ":" +
                  std::to_string(where.line()) + ": " + what);
}

// The collective part of load/store: every lane of the warp arrives (a full-warp shuffle at
// the caller's line) and passes the same pointer and leading dimension.
inline void check_collective(const char* op, const void* ptr, unsigned ldm, std::size_t element_bytes,
                             const std::source_location& where) {
  const auto bits = static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(ptr));
  const unsigned long long lane0 = device_api::__shfl_sync(0xffffffffu, bits, 0, 32, where);
  const unsigned ldm0 = device_api::__shfl_sync(0xffffffffu, ldm, 0, 32, where);
  if (lane0 != bits || ldm0 != ldm) misuse(op, "lanes of one warp passed different pointers or ldm", where);
  if (bits % 32 != 0) misuse(op, "pointer not 32-byte aligned", where);
  if ((ldm * element_bytes) % 16 != 0) misuse(op, "ldm is not a multiple of 16 bytes", where);
}

}  // namespace detail

template <class Use, int M, int N, int K, class T, class Layout = void>
class fragment {
 public:
  using element_type = detail::storage_t<T>;
  static constexpr int kRows = detail::frag_rows<Use, M, N, K>;
  static constexpr int kCols = detail::frag_cols<Use, M, N, K>;
  static constexpr int num_elements = kRows * kCols / 32;
  static_assert(kRows * kCols % 32 == 0, "fragment: the tile must split evenly over 32 lanes");
  element_type x[num_elements];

  // position (lane * num_elements + slot) -> element (row * kCols + col), and its inverse.
  static const std::array<std::uint16_t, kRows * kCols>& element_of() {
    static const std::array<std::uint16_t, kRows * kCols> table =
        detail::make_permutation<kRows * kCols>(detail::kind_seed<Use, Layout>() * 1000003ull + M * 10007ull +
                                                N * 101ull + K);
    return table;
  }
  // Row and column (within the tile) of this lane's slot s.
  static void coordinates(unsigned lane, int s, int& row, int& col) {
    const int e = element_of()[lane * num_elements + s];
    row = e / kCols;
    col = e % kCols;
  }
};

template <class Use, int M, int N, int K, class T, class Layout, class V>
void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, const V& v) {
  for (auto& e : f.x) e = static_cast<typename fragment<Use, M, N, K, T, Layout>::element_type>(v);
}

// Operand fragments: the layout is part of the type.
template <class Use, int M, int N, int K, class T, class Layout, class P>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const P* ptr, unsigned ldm,
                      std::source_location where = std::source_location::current()) {
  static_assert(!std::is_same_v<Use, accumulator>, "load_matrix_sync: accumulators take a layout_t");
  using F = fragment<Use, M, N, K, T, Layout>;
  static_assert(std::is_same_v<P, typename F::element_type>, "load_matrix_sync: pointer type must match the fragment");
  detail::check_collective("load_matrix_sync", ptr, ldm, sizeof(P), where);
  const unsigned lane = detail::lane_id();
  for (int s = 0; s < F::num_elements; ++s) {
    int r, c;
    F::coordinates(lane, s, r, c);
    f.x[s] = std::is_same_v<Layout, row_major> ? ptr[r * ldm + c] : ptr[c * ldm + r];
  }
}

template <int M, int N, int K, class T>
void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const T* ptr, unsigned ldm, layout_t layout,
                      std::source_location where = std::source_location::current()) {
  using F = fragment<accumulator, M, N, K, T>;
  detail::check_collective("load_matrix_sync", ptr, ldm, sizeof(T), where);
  const unsigned lane = detail::lane_id();
  for (int s = 0; s < F::num_elements; ++s) {
    int r, c;
    F::coordinates(lane, s, r, c);
    f.x[s] = layout == mem_row_major ? ptr[r * ldm + c] : ptr[c * ldm + r];
  }
}

template <int M, int N, int K, class T>
void store_matrix_sync(T* ptr, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout,
                       std::source_location where = std::source_location::current()) {
  using F = fragment<accumulator, M, N, K, T>;
  detail::check_collective("store_matrix_sync", ptr, ldm, sizeof(T), where);
  const unsigned lane = detail::lane_id();
  for (int s = 0; s < F::num_elements; ++s) {
    int r, c;
    F::coordinates(lane, s, r, c);
    (layout == mem_row_major ? ptr[r * ldm + c] : ptr[c * ldm + r]) = f.x[s];
  }
}

// d = a b + c over the warp (float accumulators). d may be c.
template <int M, int N, int K, class T, class LA, class LB>
void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, T, LA>& a,
              const fragment<matrix_b, M, N, K, T, LB>& b, const fragment<accumulator, M, N, K, float>& c,
              std::source_location where = std::source_location::current()) {
  using FA = fragment<matrix_a, M, N, K, T, LA>;
  using FB = fragment<matrix_b, M, N, K, T, LB>;
  using FC = fragment<accumulator, M, N, K, float>;
  static_assert(M * K + K * N + M * N <= detail::kScratchPerWarp, "mma_sync: scratch too small");
  const unsigned lane = detail::lane_id();
  float* const sa = detail::warp_scratch(detail::warp_id());
  float* const sb = sa + M * K;
  float* const sc = sb + K * N;
  int r, col;
  for (int s = 0; s < FA::num_elements; ++s) {
    FA::coordinates(lane, s, r, col);
    sa[r * K + col] = detail::widen<T>(a.x[s]);
  }
  for (int s = 0; s < FB::num_elements; ++s) {
    FB::coordinates(lane, s, r, col);
    sb[r * N + col] = detail::widen<T>(b.x[s]);
  }
  for (int s = 0; s < FC::num_elements; ++s) {
    FC::coordinates(lane, s, r, col);
    sc[r * N + col] = c.x[s];
  }
  device_api::__syncwarp(0xffffffffu, where);  // every lane's slots are in the scratch
  float out[FC::num_elements];
  for (int s = 0; s < FC::num_elements; ++s) {
    FC::coordinates(lane, s, r, col);
    float acc = sc[r * N + col];
    for (int k = 0; k < K; ++k) acc = std::fma(sa[r * K + k], sb[k * N + col], acc);
    out[s] = acc;
  }
  device_api::__syncwarp(0xffffffffu, where);  // every lane has read before the scratch is reused
  for (int s = 0; s < FC::num_elements; ++s) d.x[s] = out[s];
}

}  // namespace imx::simt::wmma
