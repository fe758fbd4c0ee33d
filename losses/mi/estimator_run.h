// One estimator's reduction written once, over an abstract "sweep" of the score matrix, so the
// fused kernel (which recomputes column tiles) and the unfused one (which stores the matrix and
// walks it in row bands) share it. A Sweep provides:
//   int slots()                          - number of per-thread accumulator slots
//   bool wants_grads()
//   void for_each_block(f)               - calls f(slot, Block<T>) over blocks covering the matrix,
//                                          each holding fresh scores
//   void accumulate_grads(slot, block)   - the block now holds dLoss/ds: add its contribution
//   void finish_grads()                  - complete the gradient outputs
// and optionally
//   shards()                             - how its rows combine with other shards' (tile_ops.h,
//                                          SingleShard when absent)
#pragma once
#include <cstddef>

#include "losses/mi/dispatch.h"
#include "losses/mi/mi.h"
#include "losses/mi/scratch.h"
#include "losses/mi/tile_ops.h"

namespace imx::mi::cpu {

struct alignas(64) SlotSums {  // one cache line per thread: no false sharing
  PointwiseSums sums;
};

// Scratch the estimator itself needs beyond the sweep (kept in sync with estimator_run below).
inline std::size_t estimator_scratch_bytes(const Geometry& g, bool pointwise, int slots,
                                           std::size_t elem_bytes) {
  if (pointwise) return std::size_t(slots) * sizeof(SlotSums);
  const std::size_t lanes = kLanes * (elem_bytes + sizeof(double));  // one LaneLse<T>
  return std::size_t(slots) * std::size_t(g.R) * lanes  // per-slot lane statistics of each row
         + std::size_t(g.R) * sizeof(RowLse)             // merged row statistics
         + std::size_t(g.R * g.P) * elem_bytes           // positive scores
         + 2 * std::size_t(g.R) * elem_bytes;            // group log-sum-exp and weight
}

template <class Sweep>
decltype(auto) shards_of(Sweep& sweep) {
  if constexpr (requires { sweep.shards(); })
    return sweep.shards();
  else
    return SingleShard{};
}

template <class M, class T, class Sweep>
double estimator_run(const Geometry& g, Sweep& sweep, MemoryMeter& meter) {
  const auto& shards = shards_of(sweep);
  const int slots = sweep.slots();
  const bool grads = sweep.wants_grads();
  if constexpr (M::pointwise) {
    // One pass: the loss terms and dLoss/ds depend on the score alone.
    Scratch<SlotSums> slot_sums(meter, slots);
    slot_sums.fill({});
    sweep.for_each_block([&](int slot, const Block<T>& b) {
      PointwiseSums s = grads ? pointwise_block<M, true>(g, b) : pointwise_block<M, false>(g, b);
      slot_sums[slot].sums.pos += s.pos;
      slot_sums[slot].sums.neg += s.neg;
      if (grads) sweep.accumulate_grads(slot, b);
    });
    PointwiseSums total;
    for (int s = 0; s < slots; ++s) {
      total.pos += slot_sums[s].sums.pos;
      total.neg += slot_sums[s].sums.neg;
    }
    total.pos = shards.sum(total.pos);
    total.neg = shards.sum(total.neg);
    if (grads) sweep.finish_grads();
    return pointwise_loss(g, total);
  } else {
    // Pass 1: row statistics (and the positives); pass 2 needs them to form dLoss/ds.
    static_assert(sizeof(LaneLse<T>) == kLanes * (sizeof(T) + sizeof(double)));
    Scratch<LaneLse<T>> lanes(meter, std::size_t(slots) * g.R);
    for (std::size_t i = 0; i < lanes.size(); ++i) lanes[i].reset();
    Scratch<RowLse> row_lse(meter, g.R);
    row_lse.fill({});
    Scratch<T> pos_scores(meter, g.R * g.P), group_lse(meter, g.R), group_weight(meter, g.R);
    sweep.for_each_block([&](int slot, const Block<T>& b) {
      lse_forward_block(g, b, lanes.data() + slot * g.R, pos_scores.data());
    });
    for (int s = 0; s < slots; ++s)
      for (int64_t r = 0; r < g.R; ++r) lanes[s * g.R + r].merge_into(row_lse[r]);
    const double loss =
        lse_finalize<M>(g, row_lse.data(), pos_scores.data(), group_lse.data(), group_weight.data(), shards);
    if (grads) {
      sweep.for_each_block([&](int slot, const Block<T>& b) {
        lse_grad_block<M>(g, b, group_lse.data(), group_weight.data());
        sweep.accumulate_grads(slot, b);
      });
      sweep.finish_grads();
    }
    return loss;
  }
}

// The shared driver of fused and unfused: builds the implementation's sweep (make(meter)
// returns it), runs estimator e over it, and reports the peak scratch both used.
template <class T, class MakeSweep>
T run_estimator(const Geometry& g, Estimator e, const Options& opt, MakeSweep&& make) {
  MemoryMeter meter;
  double loss;
  {
    auto sweep = make(meter);  // released before the peak is read
    loss = visit_estimator(e, [&](auto m) { return estimator_run<decltype(m), T>(g, sweep, meter); });
  }
  if (opt.peak_extra_bytes) *opt.peak_extra_bytes = meter.peak();
  return T(loss);
}

}  // namespace imx::mi::cpu
