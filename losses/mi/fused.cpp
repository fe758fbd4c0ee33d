// The fused CPU kernel: the (B*K) x (B*P) score matrix is produced one column tile at a time
// (a gemm of all global vectors against a tile of local vectors), reduced at once, and dropped.
// The gradient pass turns each tile into dLoss/ds in place and immediately accumulates
// dG += dS_tile * L_tile and writes dL_tile = dS_tile^T * G.
//
// Which pass structure, by estimator:
//   f-divergences: one pass (the gradient depends on the score alone). Three products.
//   infoNCE: the gradient needs each row's log-sum-exp first, so two passes. Tiles of the first
//     pass are kept for the second up to Options::score_cache_bytes (three products for them)
//     and recomputed beyond it (four), so memory stays bounded by the budget at any B.
//   dv: the same two passes when the cache holds every tile; beyond that one pass (fused_dv.h:
//     the batch's log-sum-exp factors out of every product), three products with no cache.
//     The one pass pays a pass of its own over dL (B*P*D) to apply the factor at the end: at
//     B = 256, P = 64, D = 512 it ran at 77 ms against 71 for the cached two passes.
//
// Parallelism: OpenMP over tiles, each thread calling a single-threaded gemm (measured faster
// on small core counts than threading each product inside OpenBLAS, and it also parallelizes
// the elementwise work). dG needs one partial per extra thread; dL tiles are disjoint. Each
// slot takes a fixed contiguous run of tiles (parallel.h) and the partials are merged in slot
// order, so results repeat bit for bit at a fixed thread count.
#include <algorithm>

#include "blas/gemm.h"
#include "losses/mi/dispatch.h"
#include "losses/mi/estimator_run.h"
#include "losses/mi/fused_dv.h"
#include "losses/mi/mi.h"
#include "losses/mi/parallel.h"
#include "losses/mi/scratch.h"

namespace imx::mi {
namespace {

using cpu::Block;
using cpu::Geometry;

// Which pass structure an estimator gets (see the top of this file).
enum class Passes { one, dv_one, two };

struct FusedShape {
  int64_t tile, tiles;
  int slots;          // threads actually used
  int64_t cached;     // tiles kept between the passes, per slot (the first of each slot's run)
  int64_t max_chunk;  // the most tiles any slot runs
  Passes passes;
  bool scratch_tiles() const { return cached < max_chunk; }  // some tiles are not cached
};

FusedShape fused_shape(const Problem& pb, Estimator e, bool grads, std::size_t elem_bytes, const Options& opt) {
  const int threads = resolve_threads(opt);
  if (opt.tile_cols < 0)
    throw std::invalid_argument("mi: Options::tile_cols must be >= 0, got " + std::to_string(opt.tile_cols));
  const int64_t tile =
      std::min(pb.cols(), opt.tile_cols > 0 ? opt.tile_cols : default_tile_cols(pb, elem_bytes, threads));
  const int64_t tiles = (pb.cols() + tile - 1) / tile;
  const int slots = int(std::min<int64_t>(threads, tiles));
  const int64_t max_chunk = (tiles + slots - 1) / slots;
  const bool pointwise = visit_estimator(e, [](auto m) { return decltype(m)::pointwise; });
  Passes passes = pointwise || !grads ? Passes::one : Passes::two;
  int64_t cached = 0;
  if (passes == Passes::two) {
    const std::size_t tile_bytes = std::size_t(pb.rows()) * tile * elem_bytes;
    cached = std::min<int64_t>(max_chunk, int64_t(opt.score_cache_bytes / tile_bytes) / slots);
    if (e == Estimator::dv && cached < max_chunk) passes = Passes::dv_one, cached = 0;
  }
  return {tile, tiles, slots, cached, max_chunk, passes};
}

template <class T>
class FusedSweep {
 public:
  FusedSweep(const Geometry& g, const FusedShape& shape, const T* local, const T* global,
             Gradients<T> grads, T alpha, MemoryMeter& meter)
      : g_(g), shape_(shape), local_(local), global_(global), grads_(grads), alpha_(alpha),
        scores_(meter, shape.scratch_tiles() ? std::size_t(shape.slots) * g.R * shape.tile : 0),
        cache_(meter, std::size_t(shape.slots) * shape.cached * g.R * shape.tile),
        dg_(meter, grads.global, g.R * g.D, shape.slots) {}

  int slots() const { return shape_.slots; }
  bool wants_grads() const { return grads_.any(); }

  int64_t tiles() const { return shape_.tiles; }
  int64_t tile_cols() const { return shape_.tile; }
  int64_t tile_of(const Block<T>& b) const { return b.c0 / shape_.tile; }
  // Slot 0 accumulates dG in the output itself, the others in their partials.
  T* dg_partial(int slot) { return dg_.slot(slot); }

  // The first call computes every tile (into the cache for the first `cached` tiles of each
  // slot's run); later calls reuse the cached tiles and recompute the others.
  template <class F>
  void for_each_block(F&& on_block) {
    const bool first_pass = passes_++ == 0;
    parallel_for(shape_.slots, shape_.tiles, [&](int slot, int64_t t) {
      const int64_t c0 = t * shape_.tile, c1 = std::min(g_.C, c0 + shape_.tile), w = c1 - c0;
      const int64_t q = t - shape_.tiles * slot / shape_.slots;  // position in the slot's run
      const std::size_t tile_elems = std::size_t(g_.R) * shape_.tile;
      const bool cached = q < shape_.cached;
      T* s = cached ? cache_.data() + (std::size_t(slot) * shape_.cached + q) * tile_elems
                    : scores_.data() + std::size_t(slot) * tile_elems;
      if (first_pass || !cached)
        blas::gemm<T>(false, true, g_.R, w, g_.D, T(1), global_, g_.D, local_ + c0 * g_.D, g_.D, T(0), s, w);
      on_block(slot, Block<T>{s, w, 0, g_.R, c0, c1});
    });
  }

  void accumulate_grads(int slot, const Block<T>& ds) {
    const int64_t w = ds.c1 - ds.c0;
    if (grads_.global) {
      T* dg = dg_partial(slot);
      blas::gemm<T>(false, false, g_.R, g_.D, w, alpha_, ds.data, ds.ld, local_ + ds.c0 * g_.D, g_.D,
                    T(1), dg, g_.D);
    }
    if (grads_.local)
      blas::gemm<T>(true, false, w, g_.D, g_.R, alpha_, ds.data, ds.ld, global_, g_.D, T(0),
                    grads_.local + ds.c0 * g_.D, g_.D);
  }

  void finish_grads() { dg_.merge(); }

 private:
  const Geometry& g_;
  FusedShape shape_;
  const T* local_;
  const T* global_;
  Gradients<T> grads_;
  T alpha_;
  Scratch<T> scores_;
  Scratch<T> cache_;
  SlotPartials<T> dg_;
  int passes_ = 0;
};

}  // namespace

int64_t default_tile_cols(const Problem& pb, std::size_t elem_bytes, int threads) {
  constexpr int64_t kTargetBytes = 256 * 1024;  // a score tile that stays in L2 between products
  int64_t tile = kTargetBytes / (pb.rows() * int64_t(elem_bytes));
  tile = std::clamp<int64_t>(tile / 16 * 16, 16, 1024);
  // Keep at least two tiles per thread: every thread gets work, and the equal static chunks of
  // parallel_for differ by at most one tile.
  const int64_t balanced = (pb.cols() + 2 * threads - 1) / (2 * int64_t(threads));
  return std::max<int64_t>(1, std::min(tile, std::max<int64_t>(16, balanced)));
}

std::size_t fused_bytes(const Problem& pb, Estimator e, std::size_t elem_bytes, bool with_grads,
                        const Options& opt) {
  pb.validate();
  const Geometry g(pb);
  const FusedShape shape = fused_shape(pb, e, with_grads, elem_bytes, opt);
  const std::size_t tile_bytes = std::size_t(g.R) * shape.tile * elem_bytes;
  std::size_t bytes = (shape.scratch_tiles() ? shape.slots : 0) * tile_bytes;
  bytes += std::size_t(shape.slots) * shape.cached * tile_bytes;
  if (with_grads) bytes += std::size_t(shape.slots - 1) * g.R * g.D * elem_bytes;
  if (shape.passes == Passes::dv_one) return bytes + cpu::dv_one_pass_bytes(shape.slots, shape.tiles, elem_bytes);
  const bool pointwise = visit_estimator(e, [](auto m) { return decltype(m)::pointwise; });
  return bytes + cpu::estimator_scratch_bytes(g, pointwise, shape.slots, elem_bytes);
}

template <class T>
T fused(const Problem& pb, Estimator e, const T* local, const T* global, Gradients<T> grads,
        const Options& opt) {
  pb.validate_for(e);
  const Geometry g(pb);
  const FusedShape shape = fused_shape(pb, e, grads.any(), sizeof(T), opt);
  blas::ScopedThreads single_threaded_blas(1);  // our threads run one product each
  if (shape.passes == Passes::dv_one) {
    MemoryMeter meter;
    double loss;
    {
      FusedSweep<T> sweep(g, shape, local, global, grads, T(1), meter);  // scaled in dv_one_pass
      loss = cpu::dv_one_pass<T>(g, sweep, local, global, grads, opt.grad_scale, meter);
    }
    if (opt.peak_extra_bytes) *opt.peak_extra_bytes = meter.peak();
    return T(loss);
  }
  return cpu::run_estimator<T>(g, e, opt, [&](MemoryMeter& meter) {
    return FusedSweep<T>(g, shape, local, global, grads, T(opt.grad_scale), meter);
  });
}

template float fused<float>(const Problem&, Estimator, const float*, const float*, Gradients<float>,
                            const Options&);
template double fused<double>(const Problem&, Estimator, const double*, const double*,
                              Gradients<double>, const Options&);

}  // namespace imx::mi
