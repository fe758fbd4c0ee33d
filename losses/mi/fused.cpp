// The fused CPU kernel: the (B*K) x (B*P) score matrix is produced one column tile at a time
// (a gemm of all global vectors against a tile of local vectors), reduced at once, and dropped.
// The gradient pass recomputes each tile, turns it into dLoss/ds in place and immediately
// accumulates dG += dS_tile * L_tile and writes dL_tile = dS_tile^T * G.
//
// Parallelism: OpenMP over tiles, each thread calling a single-threaded gemm (measured faster
// on small core counts than threading each product inside OpenBLAS, and it also parallelizes
// the elementwise work). dG needs one partial per extra thread; dL tiles are disjoint. Each
// slot takes a fixed contiguous run of tiles (parallel.h) and the partials are merged in slot
// order, so results repeat bit for bit at a fixed thread count.
#include <algorithm>

#include "losses/mi/blas.h"
#include "losses/mi/dispatch.h"
#include "losses/mi/estimator_run.h"
#include "losses/mi/mi.h"
#include "losses/mi/parallel.h"
#include "losses/mi/scratch.h"

namespace imx::mi {
namespace {

using cpu::Block;
using cpu::Geometry;

struct FusedShape {
  int64_t tile, tiles;
  int slots;  // threads actually used
};

FusedShape fused_shape(const Problem& pb, std::size_t elem_bytes, const Options& opt) {
  const int threads = resolve_threads(opt);
  if (opt.tile_cols < 0)
    throw std::invalid_argument("mi: Options::tile_cols must be >= 0, got " + std::to_string(opt.tile_cols));
  const int64_t tile =
      std::min(pb.cols(), opt.tile_cols > 0 ? opt.tile_cols : default_tile_cols(pb, elem_bytes, threads));
  const int64_t tiles = (pb.cols() + tile - 1) / tile;
  return {tile, tiles, int(std::min<int64_t>(threads, tiles))};
}

template <class T>
class FusedSweep {
 public:
  FusedSweep(const Geometry& g, const FusedShape& shape, const T* local, const T* global,
             Gradients<T> grads, T alpha, MemoryMeter& meter)
      : g_(g), shape_(shape), local_(local), global_(global), grads_(grads), alpha_(alpha),
        scores_(meter, std::size_t(shape.slots) * g.R * shape.tile) {
    if (grads_.global) {
      std::fill_n(grads_.global, g.R * g.D, T(0));  // slot 0 accumulates here directly
      dg_partials_ = Scratch<T>(meter, std::size_t(shape.slots - 1) * g.R * g.D);
      dg_partials_.fill(T(0));
    }
  }

  int slots() const { return shape_.slots; }
  bool wants_grads() const { return grads_.any(); }

  template <class F>
  void for_each_block(F&& on_block) {
    parallel_for(shape_.slots, shape_.tiles, [&](int slot, int64_t t) {
      const int64_t c0 = t * shape_.tile, c1 = std::min(g_.C, c0 + shape_.tile), w = c1 - c0;
      T* s = scores_.data() + std::size_t(slot) * g_.R * shape_.tile;
      blas::gemm<T>(false, true, g_.R, w, g_.D, T(1), global_, g_.D, local_ + c0 * g_.D, g_.D, T(0), s, w);
      on_block(slot, Block<T>{s, w, 0, g_.R, c0, c1});
    });
  }

  void accumulate_grads(int slot, const Block<T>& ds) {
    const int64_t w = ds.c1 - ds.c0;
    if (grads_.global) {
      T* dg = slot == 0 ? grads_.global : dg_partials_.data() + std::size_t(slot - 1) * g_.R * g_.D;
      blas::gemm<T>(false, false, g_.R, g_.D, w, alpha_, ds.data, ds.ld, local_ + ds.c0 * g_.D, g_.D,
                    T(1), dg, g_.D);
    }
    if (grads_.local)
      blas::gemm<T>(true, false, w, g_.D, g_.R, alpha_, ds.data, ds.ld, global_, g_.D, T(0),
                    grads_.local + ds.c0 * g_.D, g_.D);
  }

  void finish_grads() {
    if (!grads_.global) return;
    const int64_t n = g_.R * g_.D;
    for (int s = 0; s + 1 < shape_.slots; ++s) {
      const T* part = dg_partials_.data() + std::size_t(s) * n;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) grads_.global[i] += part[i];
    }
  }

 private:
  const Geometry& g_;
  FusedShape shape_;
  const T* local_;
  const T* global_;
  Gradients<T> grads_;
  T alpha_;
  Scratch<T> scores_;
  Scratch<T> dg_partials_;
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
  const FusedShape shape = fused_shape(pb, elem_bytes, opt);
  std::size_t bytes = std::size_t(shape.slots) * g.R * shape.tile * elem_bytes;
  if (with_grads) bytes += std::size_t(shape.slots - 1) * g.R * g.D * elem_bytes;
  const bool pointwise = visit_estimator(e, [](auto m) { return decltype(m)::pointwise; });
  return bytes + cpu::estimator_scratch_bytes(g, pointwise, shape.slots, elem_bytes);
}

template <class T>
T fused(const Problem& pb, Estimator e, const T* local, const T* global, Gradients<T> grads,
        const Options& opt) {
  pb.validate_for(e);
  const Geometry g(pb);
  const FusedShape shape = fused_shape(pb, sizeof(T), opt);
  blas::ScopedThreads single_threaded_blas(1);  // our threads run one product each
  return cpu::run_estimator<T>(g, e, opt, [&](MemoryMeter& meter) {
    return FusedSweep<T>(g, shape, local, global, grads, T(opt.grad_scale), meter);
  });
}

template float fused<float>(const Problem&, Estimator, const float*, const float*, Gradients<float>,
                            const Options&);
template double fused<double>(const Problem&, Estimator, const double*, const double*,
                              Gradients<double>, const Options&);

}  // namespace imx::mi
