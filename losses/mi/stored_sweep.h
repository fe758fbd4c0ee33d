// The sweep (estimator_run.h) over a stored (B*K) x (B*P) score matrix: one band of rows per
// slot, dLoss/ds written over the scores in place. Shared by the unfused kernel (which produces
// the matrix with a gemm and turns dS into dG, dL with two more) and from_scores (the caller's
// matrix, whose dS is the output).
#pragma once
#include <algorithm>
#include <cstdint>

#include "losses/mi/parallel.h"
#include "losses/mi/tile_ops.h"

namespace imx::mi::cpu {

template <class T>
class StoredSweep {
 public:
  // dS is multiplied by ds_scale as each band is formed (1: left as dLoss/ds).
  StoredSweep(const Geometry& g, int threads, T* scores, bool grads, T ds_scale = T(1))
      : g_(g), threads_(threads), scores_(scores), grads_(grads), ds_scale_(ds_scale),
        bands_(std::min<int64_t>(g.R, threads)) {}

  int slots() const { return threads_; }
  bool wants_grads() const { return grads_; }
  T* scores() const { return scores_; }

  template <class F>
  void for_each_block(F&& on_block) {
    parallel_for(threads_, bands_, [&](int slot, int64_t band) {
      const int64_t r0 = g_.R * band / bands_, r1 = g_.R * (band + 1) / bands_;
      on_block(slot, Block<T>{scores_ + r0 * g_.C, g_.C, r0, r1, 0, g_.C});
    });
  }

  void accumulate_grads(int, const Block<T>& ds) {
    if (ds_scale_ == T(1)) return;
    T* x = ds.row(ds.r0);  // the band's rows are contiguous (ld == C)
    const int64_t n = (ds.r1 - ds.r0) * g_.C;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) x[i] *= ds_scale_;
  }

  void finish_grads() {}

 private:
  const Geometry& g_;
  int threads_;
  T* scores_;
  bool grads_;
  T ds_scale_;
  int64_t bands_;
};

}  // namespace imx::mi::cpu
