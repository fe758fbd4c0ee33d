#include "engine/cpu/direct_conv.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "engine/cpu/caching_allocator.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace imx::cpu {

#ifdef __AVX512F__

namespace {

constexpr int64_t kLanes = 16;  // output columns a vector

// Where one image's input lies in its phase buffer. Element q of the phase row (c, v, phi) is
// x[c, v - pad, (q - lead) * stride + phi], zero outside the image. The tap (c, ky, kx) of the
// output columns ox0 .. ox0 + 15 of output row oy then starts at
//   tap[(c * kh + ky) * kw + kx] + oy * row_step + ox0
// and is one unaligned vector load.
struct PhaseLayout {
  int64_t segs;      // 16-column segments of an output row
  int64_t lead;      // zeros before each phase row (the left padding, in phase columns)
  int64_t len;       // floats of a phase row
  int64_t rows;      // padded input rows: pad above and below
  int64_t row_step;  // floats between the taps of output rows oy and oy + 1
  int64_t size;      // floats of one image
  std::vector<int64_t> tap;

  explicit PhaseLayout(const ConvGeometry& g) {
    const int64_t s = g.stride, p = g.pad;
    auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
    segs = (g.w_out + kLanes - 1) / kLanes;
    lead = (p + s - 1) / s;
    const int64_t reach = std::max<int64_t>(floor_div(g.kw - 1 - p, s), 0);  // phase columns right of ox
    // Room for what the taps read and for every column fill() copies: input columns past the
    // last one a tap uses (when (w_in + 2 pad - kw) % stride > pad) must not spill into the
    // next phase row.
    const int64_t filled = (g.w_in + s - 1) / s;
    len = (lead + std::max(segs * kLanes + reach, filled) + 3) / 4 * 4;
    rows = std::max(g.h_in + 2 * p, (g.h_out - 1) * s + g.kh);
    row_step = s * s * len;
    size = g.c_in * rows * s * len;
    tap.resize(g.c_in * g.kh * g.kw);
    for (int64_t c = 0; c < g.c_in; ++c)
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t m = floor_div(kx - p, s), phi = kx - p - m * s;
          tap[(c * g.kh + ky) * g.kw + kx] = c * rows * s * len + (ky * s + phi) * len + lead + m;
        }
  }

  // Zeroes a buffer before its first fill(). fill() writes the same positions for every image,
  // so the padding stays zero from one image to the next.
  void clear(float* buf, int64_t images) const { std::memset(buf, 0, sizeof(float) * size * images); }
  // Copies image `img` of x into buf (size floats).
  void fill(const ConvGeometry& g, const float* img, float* buf) const {
    const int64_t s = g.stride;
    for (int64_t c = 0; c < g.c_in; ++c)
      for (int64_t iy = 0; iy < g.h_in; ++iy) {
        const float* src = img + (c * g.h_in + iy) * g.w_in;
        float* row = buf + (c * rows + iy + g.pad) * s * len + lead;
        if (s == 1) {
          std::memcpy(row, src, sizeof(float) * g.w_in);
          continue;
        }
        int64_t j = 0;  // columns of each phase done
        if (s == 2) {   // the DCGAN layers: 32 columns to two phases with two permutes
          const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
          const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
          for (; 2 * (j + kLanes) <= g.w_in; j += kLanes) {
            const __m512 a = _mm512_loadu_ps(src + 2 * j), b = _mm512_loadu_ps(src + 2 * j + kLanes);
            _mm512_storeu_ps(row + j, _mm512_permutex2var_ps(a, even, b));
            _mm512_storeu_ps(row + len + j, _mm512_permutex2var_ps(a, odd, b));
          }
        }
        for (int64_t phi = 0; phi < s; ++phi) {
          float* dst = row + phi * len;
          for (int64_t k = j; k * s + phi < g.w_in; ++k) dst[k] = src[k * s + phi];
        }
      }
  }
};

__mmask16 lanes_mask(int64_t n) { return n >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

int threads_for(const ConvGeometry& g) { return int(std::min<int64_t>(omp_get_max_threads(), g.n)); }

// ---- forward: 16 output channels x 16 columns of one output row ----

constexpr int kChannels = 16;  // accumulators of a forward block

// y[c, columns] = sum over taps t of x_tap(t) * wt[t, c] for the block's 16 channels, stored to
// dst + c * plane for the channels and columns inside the output (the rest is padding).
// base: the image's buffer at the block's row and first column; wt: [taps, wt_ld] filters with
// the block's channel c at column c.
struct ForwardBlock {
  const float* base;
  const float* wt;
  float* dst;
  int channels;    // inside the output
  __mmask16 mask;  // columns inside the output
};
inline void forward_block(const ForwardBlock& b, const int64_t* tap, int64_t taps, int64_t wt_ld, int64_t plane) {
  __m512 acc[kChannels];
#pragma GCC unroll 16
  for (int c = 0; c < kChannels; ++c) acc[c] = _mm512_setzero_ps();
  for (int64_t t = 0; t < taps; ++t) {
    const __m512 v = _mm512_loadu_ps(b.base + tap[t]);
    const float* wr = b.wt + t * wt_ld;
    // Written as a scalar times a vector so that GCC folds the broadcast of the filter value
    // into the FMA's memory operand ({1to16}). With a separate broadcast instruction per FMA
    // (_mm512_set1_ps) the pass took 1.8x as long on Zen 4; blocks of several rows sharing
    // each broadcast were 10-15% slower than this.
#pragma GCC unroll 16
    for (int c = 0; c < kChannels; ++c) acc[c] += v * wr[c];
  }
  const bool whole = b.channels == kChannels && b.mask == __mmask16(0xFFFF);
#pragma GCC unroll 16
  for (int c = 0; c < kChannels; ++c) {
    if (whole) _mm512_storeu_ps(b.dst + c * plane, acc[c]);
    else if (c < b.channels) _mm512_mask_storeu_ps(b.dst + c * plane, b.mask, acc[c]);
  }
}

// ---- filter gradient: a block of BC output channels x BT taps ----

struct FilterArgs {
  const ConvGeometry* g;
  const PhaseLayout* layout;
  const float* phases;  // the group's images, layout->size floats each
  const float* gy;      // gy at the group's first image
  int64_t images;       // in the group
  __mmask16 last_mask;  // lanes of the last segment inside the row
};

// acc[c * ld + j] += sum over the group's images, rows and columns of gy(cb + c) * x_tap(t0 + j).
// Lanes hold columns; the caller sums them at the end. Masked: rows end in a partial vector,
// whose lanes past the row load as zeros, in gy and in the taps (an input column no output uses
// may hold an Inf or a NaN, and 0 * Inf is NaN); a masked load everywhere else cost ~5%.
template <int BC, int BT, bool Masked>
void filter_block(const FilterArgs& a, int64_t cb, int64_t t0, float* acc, int64_t ld) {
  const ConvGeometry& g = *a.g;
  const PhaseLayout& L = *a.layout;
  const int64_t plane = g.h_out * g.w_out;
  int64_t off[BT];
  for (int j = 0; j < BT; ++j) off[j] = L.tap[t0 + j];
  __m512 s[BC][BT];
#pragma GCC unroll 16
  for (int c = 0; c < BC; ++c)
#pragma GCC unroll 16
    for (int j = 0; j < BT; ++j) s[c][j] = _mm512_loadu_ps(acc + (c * ld + j) * kLanes);
  for (int64_t i = 0; i < a.images; ++i) {
    const float* img = a.phases + i * L.size;
    const float* gimg = a.gy + (i * g.c_out + cb) * plane;
    for (int64_t oy = 0; oy < g.h_out; ++oy)
      for (int64_t seg = 0; seg < L.segs; ++seg) {
        const float* tp = img + oy * L.row_step + seg * kLanes;
        const float* gp = gimg + oy * g.w_out + seg * kLanes;
        const __mmask16 mask = seg + 1 == L.segs ? a.last_mask : __mmask16(0xFFFF);
        __m512 tv[BT];
#pragma GCC unroll 16
        for (int j = 0; j < BT; ++j) {
          tv[j] = Masked ? _mm512_maskz_loadu_ps(mask, tp + off[j]) : _mm512_loadu_ps(tp + off[j]);
          // Keeps the tap in a register: otherwise GCC folds its load into every FMA that uses
          // it, BC loads where one is needed, and the loads rather than the FMAs bound the loop.
          asm("" : "+v"(tv[j]));
        }
#pragma GCC unroll 16
        for (int c = 0; c < BC; ++c) {
          const __m512 gv = Masked ? _mm512_maskz_loadu_ps(mask, gp + c * plane) : _mm512_loadu_ps(gp + c * plane);
#pragma GCC unroll 16
          for (int j = 0; j < BT; ++j) s[c][j] = _mm512_fmadd_ps(gv, tv[j], s[c][j]);
        }
      }
  }
#pragma GCC unroll 16
  for (int c = 0; c < BC; ++c)
#pragma GCC unroll 16
    for (int j = 0; j < BT; ++j) _mm512_storeu_ps(acc + (c * ld + j) * kLanes, s[c][j]);
}

constexpr int kFilterChannels = 4, kFilterTaps = 6;  // 24 accumulators; a row costs 6 + 4 loads
using FilterBlock = void (*)(const FilterArgs&, int64_t, int64_t, float*, int64_t);

// filter_block<BC, BT, Masked> at [Masked][BC - 1][BT - 1], for BC in 1..kFilterChannels, BT in
// 1..kFilterTaps.
constexpr int kFilterShapes = kFilterChannels * kFilterTaps;
template <bool Masked, std::size_t... I>
constexpr std::array<FilterBlock, kFilterShapes> filter_blocks(std::index_sequence<I...>) {
  return {&filter_block<int(I / kFilterTaps) + 1, int(I % kFilterTaps) + 1, Masked>...};
}
constexpr std::array<FilterBlock, kFilterShapes> kFilterBlocks[2] = {
    filter_blocks<false>(std::make_index_sequence<kFilterShapes>()),
    filter_blocks<true>(std::make_index_sequence<kFilterShapes>())};

constexpr int64_t kFilterGroup = 8;  // images whose phase buffers a thread keeps at once (~16 KB each)

}  // namespace

bool direct_conv_fits(const ConvGeometry& g) {
  return g.c_in < 8 && g.c_in * g.kh * g.kw <= kDirectMaxTaps && g.stride >= 1 && g.pad >= 0 && g.h_out > 0 &&
         g.w_out > 0 && g.n > 0;
}

void direct_conv_forward(const ConvGeometry& g, const float* x, const float* w, float* y) {
  const int64_t taps = g.c_in * g.kh * g.kw, plane = g.h_out * g.w_out;
  const int64_t co_pad = (g.c_out + kChannels - 1) / kChannels * kChannels;
  const PhaseLayout L(g);
  const int threads = threads_for(g);
  auto& heap = CachingAllocator::instance();
  // The filters as [taps, co_pad], zero past c_out: a block's channels are adjacent.
  const auto wt_block = heap.allocate(sizeof(float) * taps * co_pad);
  float* wt = static_cast<float*>(wt_block.get());
  std::fill_n(wt, taps * co_pad, 0.f);
  for (int64_t co = 0; co < g.c_out; ++co)
    for (int64_t t = 0; t < taps; ++t) wt[t * co_pad + co] = w[co * taps + t];
  const auto buffers = heap.allocate(sizeof(float) * threads * L.size);
  const __mmask16 last_mask = lanes_mask(g.w_out - (L.segs - 1) * kLanes);
#pragma omp parallel num_threads(threads)
  {
    float* buf = static_cast<float*>(buffers.get()) + omp_get_thread_num() * L.size;
    L.clear(buf, 1);
#pragma omp for schedule(static)
    for (int64_t img = 0; img < g.n; ++img) {
      L.fill(g, x + img * g.c_in * g.h_in * g.w_in, buf);
      float* yimg = y + img * g.c_out * plane;
      for (int64_t oy = 0; oy < g.h_out; ++oy)
        for (int64_t seg = 0; seg < L.segs; ++seg) {
          const __mmask16 mask = seg + 1 == L.segs ? last_mask : __mmask16(0xFFFF);
          for (int64_t cb = 0; cb < co_pad; cb += kChannels) {
            const ForwardBlock b{buf + oy * L.row_step + seg * kLanes, wt + cb,
                                 yimg + cb * plane + oy * g.w_out + seg * kLanes,
                                 int(std::min<int64_t>(kChannels, g.c_out - cb)), mask};
            forward_block(b, L.tap.data(), taps, co_pad, plane);
          }
        }
    }
  }
}

void direct_conv_backward_filter(const ConvGeometry& g, const float* x, const float* gy, float* gw) {
  const int64_t taps = g.c_in * g.kh * g.kw, plane = g.h_out * g.w_out;
  const PhaseLayout L(g);
  const int threads = threads_for(g);
  auto& heap = CachingAllocator::instance();
  const int64_t partial = g.c_out * taps;  // vectors of a thread's accumulators, [c_out, taps]
  const auto acc_block = heap.allocate(sizeof(float) * kLanes * threads * partial);
  const auto buffers = heap.allocate(sizeof(float) * threads * kFilterGroup * L.size);
  float* accs = static_cast<float*>(acc_block.get());
  // Taps split into blocks as even as possible (25 taps: 5 blocks of 5, not 6+6+6+6+1).
  const int64_t tap_blocks = (taps + kFilterTaps - 1) / kFilterTaps;
  const __mmask16 last_mask = lanes_mask(g.w_out - (L.segs - 1) * kLanes);
  const bool masked = g.w_out % kLanes != 0;
#pragma omp parallel num_threads(threads)
  {
    const int th = omp_get_thread_num();
    float* acc = accs + th * partial * kLanes;
    std::fill_n(acc, partial * kLanes, 0.f);
    float* phases = static_cast<float*>(buffers.get()) + th * kFilterGroup * L.size;
    L.clear(phases, kFilterGroup);
    // Split by the team the runtime gave (it may be smaller than asked for, inside another
    // parallel region or under OMP_DYNAMIC); the sum below covers the same team.
    const int team = omp_get_num_threads();
    const int64_t begin = g.n * th / team, end = g.n * (th + 1) / team;
    for (int64_t i0 = begin; i0 < end; i0 += kFilterGroup) {
      const int64_t images = std::min(kFilterGroup, end - i0);
      for (int64_t i = 0; i < images; ++i)
        L.fill(g, x + (i0 + i) * g.c_in * g.h_in * g.w_in, phases + i * L.size);
      const FilterArgs a{&g, &L, phases, gy + i0 * g.c_out * plane, images, last_mask};
      for (int64_t cb = 0; cb < g.c_out; cb += kFilterChannels) {
        const int64_t bc = std::min<int64_t>(kFilterChannels, g.c_out - cb);
        for (int64_t b = 0; b < tap_blocks; ++b) {
          const int64_t t0 = taps * b / tap_blocks, bt = taps * (b + 1) / tap_blocks - t0;
          kFilterBlocks[masked][(bc - 1) * kFilterTaps + (bt - 1)](a, cb, t0, acc + (cb * taps + t0) * kLanes, taps);
        }
      }
    }
    // Lanes, then threads in order: the same bits at a fixed thread count.
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t i = 0; i < partial; ++i) {
      __m512 v = _mm512_loadu_ps(accs + i * kLanes);
      for (int t = 1; t < team; ++t) v = _mm512_add_ps(v, _mm512_loadu_ps(accs + (t * partial + i) * kLanes));
      alignas(64) float lanes[kLanes];  // (_mm512_reduce_add_ps draws a false -Wmaybe-uninitialized from GCC 12)
      _mm512_store_ps(lanes, v);
      float sum = 0.f;
      for (float l : lanes) sum += l;
      gw[i] = sum;
    }
  }
}

#else  // no AVX-512 in this build: direct_conv_fits() is false, so nothing runs below

bool direct_conv_fits(const ConvGeometry&) { return false; }

void direct_conv_forward(const ConvGeometry&, const float*, const float*, float*) {
  throw std::logic_error("direct_conv: this build does not target AVX-512");
}
void direct_conv_backward_filter(const ConvGeometry&, const float*, const float*, float*) {
  throw std::logic_error("direct_conv: this build does not target AVX-512");
}

#endif

}  // namespace imx::cpu
