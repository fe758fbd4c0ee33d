// The ring sweep of sharded.h: the estimator code of estimator_run.h over score tiles
// G_q * L_r^T of this rank's local features L_r against the global features G_q that arrive one
// block at a time from the other ranks.
#include "losses/mi/sharded.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "blas/gemm.h"
#include "losses/mi/dispatch.h"
#include "losses/mi/estimator_run.h"
#include "losses/mi/parallel.h"
#include "losses/mi/scratch.h"

namespace imx::mi {
namespace {

using cpu::Block;
using cpu::Geometry;
using cpu::RowLse;

// estimator_run's cross-shard hooks: sums over every rank, and each row's log-sum-exp over
// every rank's columns.
class RingShards {
 public:
  explicit RingShards(ShardRing& ring) : ring_(&ring) {}
  double sum(double x) const {
    ring_->sum(&x, 1);
    return x;
  }
  template <class T>
  void sum(T* x, int64_t n) const {
    std::vector<double> v(x, x + n);
    ring_->sum(v.data(), int(n));
    std::copy(v.begin(), v.end(), x);
  }
  void merge_rows(RowLse* rows, int64_t n) const {
    // A rank without a row's negatives contributes sum 0 at the lowest max, which changes nothing.
    std::vector<double> max(n), sum(n);
    for (int64_t i = 0; i < n; ++i) max[i] = rows[i].sum > 0 ? rows[i].max : std::numeric_limits<double>::lowest();
    ring_->max(max.data(), int(n));
    for (int64_t i = 0; i < n; ++i) sum[i] = rows[i].sum > 0 ? rows[i].sum * std::exp(rows[i].max - max[i]) : 0.0;
    ring_->sum(sum.data(), int(n));
    for (int64_t i = 0; i < n; ++i) rows[i] = sum[i] > 0 ? RowLse{max[i], sum[i]} : RowLse{};
  }

 private:
  ShardRing* ring_;
};

Problem whole_batch(const Problem& shard, int64_t ranks) {
  Problem pb = shard;
  pb.B = shard.B * ranks;
  return pb;
}

bool is_pointwise(Estimator e) {
  return visit_estimator(e, [](auto m) { return decltype(m)::pointwise; });
}

// This rank's columns (its local features) are walked in tiles of about 256 KiB of scores, one
// tile per thread at a time (as the fused kernel walks the whole matrix), against the travelling
// block of global features; in the gradient pass the block carries its dG accumulator.
struct RingShape {
  int64_t rows;    // rows of one travelling block, b*K
  int64_t block;   // its elements, b*K*D
  int64_t width;   // this rank's columns, b*P
  int64_t tile;    // columns of a tile
  int64_t tiles;   // tiles per ring step
  int slots;       // threads
  int64_t cached;  // tiles of the first pass kept for the second (in ring order)
  int grad_pass;   // which pass forms dS: 0 for the f-divergences, 1 for dv/infoNCE
  int64_t tile_elems() const { return rows * tile; }
  bool scratch_tiles(int64_t ranks) const { return cached < ranks * tiles; }
};

RingShape ring_shape(const Problem& shard, int64_t ranks, Estimator e, bool grads, std::size_t elem_bytes,
                     const Options& opt) {
  RingShape s;
  s.rows = shard.B * shard.K;
  s.block = s.rows * shard.D;
  s.width = shard.B * shard.P;
  const int threads = resolve_threads(opt);
  s.tile = std::min(s.width, opt.tile_cols > 0 ? opt.tile_cols : default_tile_cols(shard, elem_bytes, threads));
  s.tiles = (s.width + s.tile - 1) / s.tile;
  s.slots = int(std::min<int64_t>(threads, s.tiles));
  s.grad_pass = is_pointwise(e) ? 0 : 1;
  const std::size_t tile_bytes = std::size_t(s.tile_elems()) * elem_bytes;
  s.cached = grads && s.grad_pass == 1 ? std::min<int64_t>(ranks * s.tiles, int64_t(opt.score_cache_bytes / tile_bytes))
                                       : 0;
  return s;
}

template <class T>
class RingSweep {
 public:
  RingSweep(const Geometry& g, const RingShape& shape, ShardRing& ring, const T* local, const T* global,
            Gradients<T> grads, T alpha, MemoryMeter& meter)
      : g_(g), shape_(shape), ring_(ring), shards_(ring), local_(local), global_(global), grads_(grads),
        alpha_(alpha), travel_(meter, std::size_t(shape.block) * (grads.global ? 2 : 1)),
        scratch_(meter, shape.scratch_tiles(ring.ranks()) ? std::size_t(shape.slots) * shape.tile_elems() : 0),
        cache_(meter, std::size_t(shape.cached) * shape.tile_elems()),
        dg_(meter, grads.global ? travel_.data() + shape.block : nullptr, shape.block, shape.slots) {
    if (grads_.local) std::fill_n(grads_.local, shape.width * g.D, T(0));  // summed over the ring
  }

  int slots() const { return shape_.slots; }
  bool wants_grads() const { return grads_.any(); }
  const RingShards& shards() const { return shards_; }

  template <class F>
  void for_each_block(F&& on_block) {
    const int pass = passes_++;
    const bool carry_dg = grads_.global && pass == shape_.grad_pass;
    const int64_t ranks = ring_.ranks(), rank = ring_.rank(), width = shape_.width;
    std::copy_n(global_, shape_.block, travel_.data());
    if (carry_dg) std::fill_n(travel_.data() + shape_.block, shape_.block, T(0));
    const std::size_t bytes = std::size_t(shape_.block) * (carry_dg ? 2 : 1) * sizeof(T);
    for (int64_t t = 0; t < ranks; ++t) {
      const int64_t owner = (rank - t + ranks) % ranks;  // whose global features this rank holds
      {
        blas::ScopedThreads single_threaded_blas(1);  // our threads run one product each
        parallel_for(shape_.slots, shape_.tiles, [&](int slot, int64_t k) {
          const int64_t c0 = k * shape_.tile, c1 = std::min(width, c0 + shape_.tile), w = c1 - c0;
          const int64_t index = t * shape_.tiles + k;
          T* s = index < shape_.cached ? cache_.data() + std::size_t(index) * shape_.tile_elems()
                                       : scratch_.data() + std::size_t(slot) * shape_.tile_elems();
          if (pass == 0 || index >= shape_.cached)
            blas::gemm<T>(false, true, shape_.rows, w, g_.D, T(1), travel_.data(), g_.D, local_ + c0 * g_.D, g_.D,
                          T(0), s, w);
          on_block(slot, Block<T>{s, w, owner * shape_.rows, (owner + 1) * shape_.rows, rank * width + c0,
                                  rank * width + c1});
        });
      }
      if (carry_dg) dg_.merge(/*restart=*/true);  // this step's share of the block's dG, in slot order
      // The dG accumulator must make the full turn home; the features alone need not.
      if (t + 1 < ranks || carry_dg) ring_.pass(travel_.data(), bytes);
    }
  }

  void accumulate_grads(int slot, const Block<T>& ds) {
    const int64_t w = ds.c1 - ds.c0, c0 = ds.c0 - ring_.rank() * shape_.width;  // column within the rank's
    if (grads_.local)  // tiles of one step cover disjoint columns; the steps run one after the other
      blas::gemm<T>(true, false, w, g_.D, shape_.rows, alpha_, ds.data, ds.ld, travel_.data(), g_.D, T(1),
                    grads_.local + c0 * g_.D, g_.D);
    if (grads_.global)
      blas::gemm<T>(false, false, shape_.rows, g_.D, w, alpha_, ds.data, ds.ld, local_ + c0 * g_.D, g_.D, T(1),
                    dg_.slot(slot), g_.D);
  }

  // After the gradient pass's last step the buffer holds this rank's own global features again,
  // with every rank's share of their dG.
  void finish_grads() {
    if (grads_.global) std::copy_n(travel_.data() + shape_.block, shape_.block, grads_.global);
  }

 private:
  const Geometry& g_;
  RingShape shape_;
  ShardRing& ring_;
  RingShards shards_;
  const T* local_;
  const T* global_;
  Gradients<T> grads_;
  T alpha_;
  Scratch<T> travel_, scratch_, cache_;
  SlotPartials<T> dg_;
  int passes_ = 0;
};

// The whole batch's geometry, with this rank's images as the rows whose positives it holds.
Geometry rank_geometry(const Problem& shard, int64_t ranks, int64_t rank) {
  Geometry g(whole_batch(shard, ranks));
  g.own_r0 = rank * shard.B * shard.K;
  g.own_r1 = (rank + 1) * shard.B * shard.K;
  return g;
}

void validate(const Problem& shard, int64_t ranks, Estimator e) {
  if (ranks < 1) throw std::invalid_argument("mi::sharded: ranks must be >= 1, got " + std::to_string(ranks));
  shard.validate();
  whole_batch(shard, ranks).validate_for(e);
}

}  // namespace

std::size_t sharded_bytes(const Problem& shard, int64_t ranks, Estimator e, std::size_t elem_bytes, bool with_grads,
                          const Options& opt) {
  validate(shard, ranks, e);
  const Geometry g = rank_geometry(shard, ranks, 0);
  const RingShape s = ring_shape(shard, ranks, e, with_grads, elem_bytes, opt);
  std::size_t elems = std::size_t(s.block) * (with_grads ? 2 : 1);  // dG wanted whenever grads are
  elems += s.scratch_tiles(ranks) ? std::size_t(s.slots) * s.tile_elems() : 0;
  elems += std::size_t(s.cached) * s.tile_elems();
  if (with_grads) elems += std::size_t(s.slots - 1) * s.block;  // dG partials
  return elems * elem_bytes + cpu::estimator_scratch_bytes(g, is_pointwise(e), s.slots, elem_bytes);
}

template <class T>
T sharded(const Problem& shard, Estimator e, const T* local, const T* global, ShardRing& ring, Gradients<T> grads,
          const Options& opt) {
  const int64_t ranks = ring.ranks();
  validate(shard, ranks, e);
  if (ring.rank() < 0 || ring.rank() >= ranks)
    throw std::invalid_argument("mi::sharded: rank " + std::to_string(ring.rank()) + " outside [0, " +
                                std::to_string(ranks) + ")");
  const Geometry g = rank_geometry(shard, ranks, ring.rank());
  const RingShape shape = ring_shape(shard, ranks, e, grads.any(), sizeof(T), opt);
  return cpu::run_estimator<T>(g, e, opt, [&](MemoryMeter& meter) {
    return RingSweep<T>(g, shape, ring, local, global, grads, T(opt.grad_scale), meter);
  });
}

template float sharded<float>(const Problem&, Estimator, const float*, const float*, ShardRing&, Gradients<float>,
                              const Options&);
template double sharded<double>(const Problem&, Estimator, const double*, const double*, ShardRing&,
                                Gradients<double>, const Options&);

}  // namespace imx::mi
