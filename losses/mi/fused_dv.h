// DV's forward and backward in one pass over the score tiles of the fused kernel.
//
// DV's loss is N - mean_pos(s) - log(nneg) with N = log sum over every negative of e^s, and
// dLoss/ds is e^{s - N} on a negative and -1/npos on a positive. N is one number for the
// whole batch, so the unknown factor e^{-N} can be taken out of every product and applied at
// the end: each slot keeps a running reference m (the largest negative score it has seen) and
// accumulates E = e^{s - m} (0 on positives) into dG_slot += E L_tile and dL_tile = E^T G; when
// m grows, dG_slot and the slot's sum are rescaled. At the end dG_slot is scaled by e^{m - N},
// each dL tile by e^{m_tile - N}, and the positives' constant -1/npos contributes
// -(1/npos) sum_p L[i,p] to dG and -(1/npos) sum_k G[j,k] to dL. Three products, one pass,
// instead of a second pass that recomputes (or re-reads) every tile.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "losses/mi/estimator_run.h"
#include "losses/mi/scratch.h"
#include "losses/mi/tile_ops.h"

namespace imx::mi::cpu {

// Per-slot state; one cache line apart so that threads do not share lines.
template <class T>
struct alignas(64) DvSlot {
  T ref;                 // the reference m: every E of this slot is e^{s - m}
  double sum[kLanes];    // sum of e^{s - m} over the slot's negatives, in lanes
  double pos_sum;        // sum of the slot's positive scores
};

// Scratch of dv_one_pass beyond the sweep's: the slots and one reference per tile.
inline std::size_t dv_one_pass_bytes(int slots, int64_t tiles, std::size_t elem_bytes) {
  return std::size_t(slots) * sizeof(DvSlot<double>) + std::size_t(tiles) * elem_bytes;
}

// The largest negative score of a block (lowest() when it holds none).
template <class T>
T block_negative_max(const Geometry& g, const Block<T>& b) {
  T m = std::numeric_limits<T>::lowest();
  const int64_t width = b.c1 - b.c0;
  auto scan = [&m](const T* x, int64_t n) {
    T local = m;
#pragma omp simd reduction(max : local)
    for (int64_t c = 0; c < n; ++c) local = std::max(local, x[c]);
    m = local;
  };
  for (int64_t r = b.r0; r < b.r1; ++r) {
    const RowSplit sp = split_row(g, r, b.c0, b.c1);
    scan(b.row(r), sp.begin);
    scan(b.row(r) + sp.end, width - sp.end);
  }
  return m;
}

// Overwrites the block with E = e^{s - ref} on negatives (summed into lanes) and 0 on
// positives (summed into *pos_sum).
template <class T>
void block_to_shifted_exp(const Geometry& g, const Block<T>& b, T ref, double* lanes, double* pos_sum) {
  const int64_t width = b.c1 - b.c0;
  auto negatives = [&](T* x, int64_t n) {
    int64_t c = 0;
    for (; c + kLanes <= n; c += kLanes) {
#pragma omp simd
      for (int l = 0; l < kLanes; ++l) {
        x[c + l] = math::exp(x[c + l] - ref);
        lanes[l] += double(x[c + l]);
      }
    }
    for (int l = 0; c + l < n; ++l) {
      x[c + l] = math::exp(x[c + l] - ref);
      lanes[l] += double(x[c + l]);
    }
  };
  for (int64_t r = b.r0; r < b.r1; ++r) {
    T* row = b.row(r);
    const RowSplit sp = split_row(g, r, b.c0, b.c1);
    negatives(row, sp.begin);
    negatives(row + sp.end, width - sp.end);
    double s = 0;
    for (int64_t c = sp.begin; c < sp.end; ++c) s += double(row[c]), row[c] = T(0);
    *pos_sum += s;
  }
}

// Runs DV with gradients over a fused sweep built with gradient scale 1 (the scale is applied
// here). The sweep must expose tile_of(block), tiles(), dg_partial(slot) besides the Sweep
// interface of estimator_run.h.
template <class T, class Sweep>
double dv_one_pass(const Geometry& g, Sweep& sweep, const T* local, const T* global, Gradients<T> grads,
                   double alpha, MemoryMeter& meter) {
  const int slots = sweep.slots();
  Scratch<DvSlot<T>> state(meter, slots);
  for (int s = 0; s < slots; ++s) {
    state[s].ref = std::numeric_limits<T>::lowest();
    std::fill_n(state[s].sum, kLanes, 0.0);
    state[s].pos_sum = 0;
  }
  Scratch<T> tile_ref(meter, sweep.tiles());
  sweep.for_each_block([&](int slot, const Block<T>& b) {
    DvSlot<T>& st = state[slot];
    const T m = block_negative_max(g, b);
    if (m > st.ref) {  // a new reference: rescale what the slot has accumulated so far
      const double f = std::exp(double(st.ref) - double(m));
      for (int l = 0; l < kLanes; ++l) st.sum[l] *= f;
      if (grads.global) {
        T* dg = sweep.dg_partial(slot);
        const T ft = T(f);
#pragma omp simd
        for (int64_t i = 0; i < g.R * g.D; ++i) dg[i] *= ft;
      }
      st.ref = m;
    }
    block_to_shifted_exp(g, b, st.ref, st.sum, &st.pos_sum);
    tile_ref[sweep.tile_of(b)] = st.ref;
    sweep.accumulate_grads(slot, b);
  });
  RowLse batch;
  double pos_sum = 0;
  for (int s = 0; s < slots; ++s) {
    double sum = 0;
    for (int l = 0; l < kLanes; ++l) sum += state[s].sum[l];
    batch.merge(double(state[s].ref), sum);
    pos_sum += state[s].pos_sum;
  }
  const double N = batch.value();
  const double loss = N - pos_sum * g.inv_npos - std::log(double(g.nneg));

  // e^{-N} and the gradient scale, then the positives' constant dLoss/ds = -1/npos.
  const T neg_pos = T(-alpha * g.inv_npos);
  const int64_t B = g.R / g.K;
  if (grads.global) {
    for (int s = 0; s < slots; ++s) {
      T* dg = sweep.dg_partial(s);
      const T f = T(alpha * std::exp(double(state[s].ref) - N));
#pragma omp simd
      for (int64_t i = 0; i < g.R * g.D; ++i) dg[i] *= f;
    }
    sweep.finish_grads();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < B; ++i) {  // dG[i,k] += -(1/npos) sum_p L[i,p]
      std::vector<T> sum_l(g.D, T(0));
      for (int64_t p = 0; p < g.P; ++p) {
        const T* l = local + (i * g.P + p) * g.D;
#pragma omp simd
        for (int64_t d = 0; d < g.D; ++d) sum_l[d] += l[d];
      }
      for (int64_t k = 0; k < g.K; ++k) {
        T* dg = grads.global + (i * g.K + k) * g.D;
#pragma omp simd
        for (int64_t d = 0; d < g.D; ++d) dg[d] += neg_pos * sum_l[d];
      }
    }
  }
  if (grads.local) {
    const int64_t tile = sweep.tile_cols();
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < B; ++j) {  // dL[j,p] = e^{m_tile - N} dL_tile - (1/npos) sum_k G[j,k]
      std::vector<T> sum_g(g.D, T(0));
      for (int64_t k = 0; k < g.K; ++k) {
        const T* gk = global + (j * g.K + k) * g.D;
#pragma omp simd
        for (int64_t d = 0; d < g.D; ++d) sum_g[d] += gk[d];
      }
      for (int64_t p = 0; p < g.P; ++p) {
        const int64_t c = j * g.P + p;
        const T f = T(alpha * std::exp(double(tile_ref[c / tile]) - N));
        T* dl = grads.local + c * g.D;
#pragma omp simd
        for (int64_t d = 0; d < g.D; ++d) dl[d] = f * dl[d] + neg_pos * sum_g[d];
      }
    }
  }
  return loss;
}

}  // namespace imx::mi::cpu
