// What a sweep does with each score tile, per estimator family (terms.h):
//   PointwiseEpilogue - f-divergences: sums the loss terms over positives and negatives and,
//                       when gradients are wanted, writes dS = grad_scale * dLoss/ds at once;
//   LseStatsEpilogue  - dv/infoNCE forward: per-row online log-sum-exp over the negatives, and
//                       the positive scores (the only ones the loss needs individually);
//   LseGradEpilogue   - dv/infoNCE backward: dS from the row statistics N and a.
// Each is copied into registers by every thread (its state covers the thread's kM <= kLargeMicro
// rows); begin/tile/finish are called by every thread of the block (finish may contain
// barriers), with the sweep's tile (kM, tiles of 16 kM x 16 kM: 128 x 128, 64 x 64 or 32 x 32),
// whose outputs tile() reads by acc.at(x, y) from a TileAccOf<kM> (registers) or a
// SharedTileOf<kM> (the tensor-core sweeps' tile in shared memory).
#pragma once
#include "losses/mi_cuda/tile.cuh"

namespace imx::mi::IMX_KNS {

// The images of this thread's rows of the tile at r0, or -1 past the last row.
template <int kM>
struct RowImages {
  int64_t image[kM];
  IMX_DEVICE RowImages(const Geometry& g, int64_t r0) {
    for (int x = 0; x < kM; ++x) {
      const int64_t r = r0 + micro_row(x);
      image[x] = r < g.R ? r / g.K : -1;
    }
  }
};

// The images of this thread's columns of the tile at c0, or -2 from column c_end on.
template <int kM>
struct ColImages {
  int64_t image[kM];
  IMX_DEVICE ColImages(const Geometry& g, int64_t c0, int64_t c_end) {
    for (int y = 0; y < kM; ++y) {
      const int64_t c = c0 + micro_col(y);
      image[y] = c < c_end ? c / g.P : -2;
    }
  }
};

template <class M>
struct PointwiseEpilogue {
  Geometry g;
  float* ds;           // null: forward only; else dS[r][c - ds_c0] at ds + r * ld_ds
  int64_t ld_ds, ds_c0;
  float grad_scale;
  PointwiseSums* partials;  // one slot per block (blockIdx.y * gridDim.x + blockIdx.x)
  bool accumulate;          // add to the slot (a later column chunk) instead of overwriting it
  double pos, neg;          // this thread's sums

  template <int kM>
  IMX_DEVICE void begin(int64_t) { pos = neg = 0.0; }

  template <int kM, class Acc>
  IMX_DEVICE void tile(int64_t r0, int64_t c0, int64_t c_end, const Acc& acc) {
    const RowImages<kM> rows(g, r0);
    const ColImages<kM> cols(g, c0, c_end);
    const float pos_scale = grad_scale * float(g.inv_npos), neg_scale = grad_scale * float(g.inv_nneg);
    float tile_pos = 0.0f, tile_neg = 0.0f;  // float within the tile, double across tiles
    for (int x = 0; x < kM; ++x) {
      if (rows.image[x] < 0) continue;
      const int64_t r = r0 + micro_row(x);
      for (int y = 0; y < kM; ++y) {
        if (cols.image[y] < 0) continue;
        const float s = acc.at(x, y);
        const bool positive = rows.image[x] == cols.image[y];
        if (positive) tile_pos += M::pos(s);
        else tile_neg += M::neg(s);
        if (ds != nullptr)
          ds[r * ld_ds + (c0 + micro_col(y) - ds_c0)] = positive ? pos_scale * M::dpos(s) : neg_scale * M::dneg(s);
      }
    }
    pos += tile_pos;
    neg += tile_neg;
  }

  template <int kM>
  IMX_DEVICE void finish(int64_t) {
    const PointwiseSums total = block_allreduce(PointwiseSums{pos, neg}, AddOp{});
    if (threadIdx.x == 0) {
      PointwiseSums& slot = partials[static_cast<int64_t>(blockIdx.y) * gridDim.x + blockIdx.x];
      slot = accumulate ? AddOp{}(slot, total) : total;
    }
  }
};

template <class M>
struct LseStatsEpilogue {
  Geometry g;
  LsePart<float>* row_partials;  // [R][splits]: this block writes column blockIdx.y
  float* pos_scores;             // [R][P]: positive p of row r at r * P + p
  float* store;                  // null, or every score s[r][c] to store[r * C + c] (the fused
                                 // backward's stored S when the whole matrix fits its dS buffer)
  LsePart<float> row[kLargeMicro];  // this thread's share of its rows' negatives (kM used)

  template <int kM>
  IMX_DEVICE void begin(int64_t) {
    static_assert(kM <= kLargeMicro, "the row state covers kLargeMicro rows");
    for (int x = 0; x < kM; ++x) row[x] = LsePart<float>{0.0f, 0.0f};
  }

  template <int kM, class Acc>
  IMX_DEVICE void tile(int64_t r0, int64_t c0, int64_t c_end, const Acc& acc) {
    const RowImages<kM> rows(g, r0);
    const ColImages<kM> cols(g, c0, c_end);
    for (int x = 0; x < kM; ++x) {
      if (rows.image[x] < 0) continue;
      const int64_t r = r0 + micro_row(x);
      float tile_max = -INFINITY;
      bool any = false;
      for (int y = 0; y < kM; ++y) {
        if (cols.image[y] < 0) continue;
        const float s = acc.at(x, y);
        if (store != nullptr) store[r * g.C + c0 + micro_col(y)] = s;
        if (rows.image[x] == cols.image[y]) {
          pos_scores[r * g.P + (c0 + micro_col(y) - rows.image[x] * g.P)] = s;
        } else {
          tile_max = fmaxf(tile_max, s);
          any = true;
        }
      }
      if (!any) continue;
      float tile_sum = 0.0f;
      for (int y = 0; y < kM; ++y)
        if (cols.image[y] >= 0 && rows.image[x] != cols.image[y]) tile_sum += math::exp(acc.at(x, y) - tile_max);
      row[x] = merge_lse(row[x], LsePart<float>{tile_max, tile_sum});
    }
  }

  // Only the kM rows this thread owns in this tile: with 32-row tiles (kM = 2), rows ty + 32 and up
  // belong to the next row tile (its block writes their slots).
  template <int kM>
  IMX_DEVICE void finish(int64_t r0) {
    for (int x = 0; x < kM; ++x) {
      // The 16 threads of a tile row are 16 aligned lanes of one warp.
      const LsePart<float> merged = lanes_allreduce<kTileSide>(row[x], MergeLseOp{});
      const int64_t r = r0 + micro_row(x);
      if (tile_tx() == 0 && r < g.R) row_partials[r * gridDim.y + blockIdx.y] = merged;
    }
  }
};

template <class M>
struct LseGradEpilogue {
  Geometry g;
  const float* group_lse;     // [R]: N of the row's group
  const float* group_weight;  // [R]: a of the row's group
  float* ds;                  // dS[r][c - ds_c0] at ds + r * ld_ds
  int64_t ld_ds, ds_c0;
  float grad_scale;
  float N[kLargeMicro], a[kLargeMicro];  // kM used

  template <int kM>
  IMX_DEVICE void begin(int64_t r0) {
    static_assert(kM <= kLargeMicro, "the row state covers kLargeMicro rows");
    for (int x = 0; x < kM; ++x) {
      const int64_t r = r0 + micro_row(x);
      N[x] = r < g.R ? group_lse[r] : 0.0f;
      a[x] = r < g.R ? grad_scale * group_weight[r] : 0.0f;
    }
  }

  template <int kM, class Acc>
  IMX_DEVICE void tile(int64_t r0, int64_t c0, int64_t c_end, const Acc& acc) {
    const RowImages<kM> rows(g, r0);
    const ColImages<kM> cols(g, c0, c_end);
    const float pos_scale = -grad_scale * float(g.inv_npos);
    for (int x = 0; x < kM; ++x) {
      if (rows.image[x] < 0) continue;
      const int64_t r = r0 + micro_row(x);
      for (int y = 0; y < kM; ++y) {
        if (cols.image[y] < 0) continue;
        const float s = acc.at(x, y);
        // Negatives: a e^{s - N}, where s <= N (N is a log-sum-exp over them): no overflow.
        ds[r * ld_ds + (c0 + micro_col(y) - ds_c0)] = rows.image[x] == cols.image[y]
                                                           ? pos_scale * M::dlink(N[x] - s)
                                                           : a[x] * math::exp(s - N[x]);
      }
    }
  }

  template <int kM>
  IMX_DEVICE void finish(int64_t) {}
};

}  // namespace imx::mi::IMX_KNS
