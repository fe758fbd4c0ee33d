// The ring sweep of sharded.h: the estimator code of estimator_run.h over score tiles
// G_r * L_q^T whose local-feature blocks L_q arrive one by one from the other ranks.
#include "losses/mi/sharded.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "losses/mi/blas.h"
#include "losses/mi/dispatch.h"
#include "losses/mi/estimator_run.h"
#include "losses/mi/scratch.h"

namespace imx::mi {
namespace {

using cpu::Block;
using cpu::Geometry;
using cpu::RowLse;

// estimator_run's cross-shard hook: sums and DV's batch log-sum-exp over every rank.
class RingShards {
 public:
  explicit RingShards(ShardRing& ring) : ring_(&ring) {}
  double sum(double x) const {
    ring_->sum(&x, 1);
    return x;
  }
  void merge(RowLse& lse) const {
    // A rank without negatives contributes sum 0 at the lowest max, which changes nothing.
    double max = lse.sum > 0 ? lse.max : std::numeric_limits<double>::lowest();
    ring_->max(&max, 1);
    double sum = lse.sum > 0 ? lse.sum * std::exp(lse.max - max) : 0.0;
    ring_->sum(&sum, 1);
    lse.max = max;
    lse.sum = sum;
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

// The buffer that travels: a block of local features, then (in the gradient pass, when dL is
// wanted) its dL accumulator.
struct RingShape {
  int64_t block;        // elements of one local-feature block, b*P*D
  int64_t tile;         // elements of one score tile, b*K x b*P
  int64_t cached;       // tiles of the first pass kept for the second
  int grad_pass;        // which pass forms dS: 0 for the f-divergences, 1 for dv/infoNCE
};

RingShape ring_shape(const Problem& shard, int64_t ranks, Estimator e, bool grads, std::size_t elem_bytes,
                     const Options& opt) {
  RingShape s;
  s.block = shard.B * shard.P * shard.D;
  s.tile = shard.B * shard.K * shard.B * shard.P;
  s.grad_pass = is_pointwise(e) ? 0 : 1;
  s.cached = grads && s.grad_pass == 1
                 ? std::min<int64_t>(ranks, int64_t(opt.score_cache_bytes / (std::size_t(s.tile) * elem_bytes)))
                 : 0;
  return s;
}

template <class T>
class RingSweep {
 public:
  RingSweep(const Geometry& g, const Problem& shard, const RingShape& shape, ShardRing& ring, const T* local,
            const T* global, Gradients<T> grads, T alpha, MemoryMeter& meter)
      : g_(g), b_(shard.B), shape_(shape), ring_(ring), shards_(ring), local_(local), global_(global),
        grads_(grads), alpha_(alpha),
        travel_(meter, std::size_t(shape.block) * (grads.local ? 2 : 1)),
        tile_(meter, shape.cached < ring.ranks() ? std::size_t(shape.tile) : 0),
        cache_(meter, std::size_t(shape.cached) * shape.tile) {
    if (grads_.global) std::fill_n(grads_.global, g.R * g.D, T(0));
  }

  int slots() const { return 1; }
  bool wants_grads() const { return grads_.any(); }
  const RingShards& shards() const { return shards_; }

  template <class F>
  void for_each_block(F&& on_block) {
    const int pass = passes_++;
    const bool carry_dl = grads_.local && pass == shape_.grad_pass;
    const int64_t ranks = ring_.ranks(), rank = ring_.rank(), width = b_ * g_.P;
    std::copy_n(local_, shape_.block, travel_.data());
    if (carry_dl) std::fill_n(travel_.data() + shape_.block, shape_.block, T(0));
    const std::size_t bytes = std::size_t(shape_.block) * (carry_dl ? 2 : 1) * sizeof(T);
    for (int64_t t = 0; t < ranks; ++t) {
      const int64_t owner = (rank - t + ranks) % ranks;  // whose block this rank holds at step t
      T* s = t < shape_.cached ? cache_.data() + std::size_t(t) * shape_.tile : tile_.data();
      if (pass == 0 || t >= shape_.cached)
        blas::gemm<T>(false, true, g_.R, width, g_.D, T(1), global_, g_.D, travel_.data(), g_.D, T(0), s, width);
      on_block(0, Block<T>{s, width, 0, g_.R, owner * width, (owner + 1) * width});
      // The dL accumulator must make the full turn home; the features alone need not.
      if (t + 1 < ranks || carry_dl) ring_.pass(travel_.data(), bytes);
    }
  }

  void accumulate_grads(int, const Block<T>& ds) {
    const int64_t width = ds.c1 - ds.c0;
    const T* block = travel_.data();
    if (grads_.global)
      blas::gemm<T>(false, false, g_.R, g_.D, width, alpha_, ds.data, ds.ld, block, g_.D, T(1), grads_.global, g_.D);
    if (grads_.local)
      blas::gemm<T>(true, false, width, g_.D, g_.R, alpha_, ds.data, ds.ld, global_, g_.D, T(1),
                    travel_.data() + shape_.block, g_.D);
  }

  // After the gradient pass's last step the buffer holds this rank's own block again, with every
  // rank's share of its dL.
  void finish_grads() {
    if (grads_.local) std::copy_n(travel_.data() + shape_.block, shape_.block, grads_.local);
  }

 private:
  const Geometry& g_;
  int64_t b_;
  RingShape shape_;
  ShardRing& ring_;
  RingShards shards_;
  const T* local_;
  const T* global_;
  Gradients<T> grads_;
  T alpha_;
  Scratch<T> travel_, tile_, cache_;
  int passes_ = 0;
};

void validate(const Problem& shard, int64_t ranks, Estimator e) {
  if (ranks < 1) throw std::invalid_argument("mi::sharded: ranks must be >= 1, got " + std::to_string(ranks));
  shard.validate();
  whole_batch(shard, ranks).validate_for(e);
}

}  // namespace

std::size_t sharded_bytes(const Problem& shard, int64_t ranks, Estimator e, std::size_t elem_bytes, bool with_grads,
                          const Options& opt) {
  validate(shard, ranks, e);
  const Problem pb = whole_batch(shard, ranks);
  const Geometry g(pb, 0, shard.B);
  const RingShape s = ring_shape(shard, ranks, e, with_grads, elem_bytes, opt);
  std::size_t bytes = std::size_t(s.block) * (with_grads ? 2 : 1);  // dL wanted whenever grads are
  bytes += s.cached < ranks ? std::size_t(s.tile) : 0;
  bytes += std::size_t(s.cached) * s.tile;
  return bytes * elem_bytes + cpu::estimator_scratch_bytes(g, is_pointwise(e), 1, elem_bytes);
}

template <class T>
T sharded(const Problem& shard, Estimator e, const T* local, const T* global, ShardRing& ring, Gradients<T> grads,
          const Options& opt) {
  const int64_t ranks = ring.ranks();
  validate(shard, ranks, e);
  if (ring.rank() < 0 || ring.rank() >= ranks)
    throw std::invalid_argument("mi::sharded: rank " + std::to_string(ring.rank()) + " outside [0, " +
                                std::to_string(ranks) + ")");
  const Problem pb = whole_batch(shard, ranks);
  const Geometry g(pb, ring.rank() * shard.B, shard.B);
  const RingShape shape = ring_shape(shard, ranks, e, grads.any(), sizeof(T), opt);
  blas::ScopedThreads blas_threads(resolve_threads(opt));
  return cpu::run_estimator<T>(g, e, opt, [&](MemoryMeter& meter) {
    return RingSweep<T>(g, shard, shape, ring, local, global, grads, T(opt.grad_scale), meter);
  });
}

template float sharded<float>(const Problem&, Estimator, const float*, const float*, ShardRing&, Gradients<float>,
                              const Options&);
template double sharded<double>(const Problem&, Estimator, const double*, const double*, ShardRing&,
                                Gradients<double>, const Options&);

}  // namespace imx::mi
