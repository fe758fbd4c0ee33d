// The unfused baseline: the whole (B*K) x (B*P) score matrix from one gemm (OpenBLAS-threaded),
// the estimator's reductions over bands of rows (OpenMP), dLoss/ds formed in place, and two
// gemms for the gradients. Same estimator code as the fused kernel (estimator_run.h); only the
// way the score matrix is produced differs.
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

template <class T>
class StoredSweep {
 public:
  StoredSweep(const Geometry& g, int threads, const T* local, const T* global, Gradients<T> grads,
              T alpha, MemoryMeter& meter)
      : g_(g), threads_(threads), local_(local), global_(global), grads_(grads), alpha_(alpha),
        scores_(meter, std::size_t(g.R) * g.C) {
    blas::gemm<T>(false, true, g.R, g.C, g.D, T(1), global, g.D, local, g.D, T(0), scores_.data(), g.C);
    // A few bands per thread balance the dynamic schedule.
    bands_ = std::min<int64_t>(g.R, 4 * int64_t(threads));
  }

  int slots() const { return threads_; }
  bool wants_grads() const { return grads_.any(); }

  template <class F>
  void for_each_block(F&& on_block) {
    parallel_for(threads_, bands_, [&](int slot, int64_t band) {
      const int64_t r0 = g_.R * band / bands_, r1 = g_.R * (band + 1) / bands_;
      on_block(slot, Block<T>{scores_.data() + r0 * g_.C, g_.C, r0, r1, 0, g_.C});
    });
  }

  void accumulate_grads(int, const Block<T>&) {}  // the products run once, in finish_grads

  void finish_grads() {
    if (grads_.global)
      blas::gemm<T>(false, false, g_.R, g_.D, g_.C, alpha_, scores_.data(), g_.C, local_, g_.D, T(0),
                    grads_.global, g_.D);
    if (grads_.local)
      blas::gemm<T>(true, false, g_.C, g_.D, g_.R, alpha_, scores_.data(), g_.C, global_, g_.D, T(0),
                    grads_.local, g_.D);
  }

 private:
  const Geometry& g_;
  int threads_;
  const T* local_;
  const T* global_;
  Gradients<T> grads_;
  T alpha_;
  Scratch<T> scores_;
  int64_t bands_ = 1;
};

}  // namespace

std::size_t unfused_bytes(const Problem& pb, Estimator e, std::size_t elem_bytes, bool,
                          const Options& opt) {
  pb.validate();
  const Geometry g(pb);
  const bool pointwise = visit_estimator(e, [](auto m) { return decltype(m)::pointwise; });
  return std::size_t(g.R) * g.C * elem_bytes +
         cpu::estimator_scratch_bytes(g, pointwise, resolve_threads(opt), elem_bytes);
}

template <class T>
T unfused(const Problem& pb, Estimator e, const T* local, const T* global, Gradients<T> grads,
          const Options& opt) {
  pb.validate_for(e);
  const Geometry g(pb);
  const int threads = resolve_threads(opt);
  blas::ScopedThreads blas_threads(threads);
  return cpu::run_estimator<T>(g, e, opt, [&](MemoryMeter& meter) {
    return StoredSweep<T>(g, threads, local, global, grads, T(opt.grad_scale), meter);
  });
}

template float unfused<float>(const Problem&, Estimator, const float*, const float*,
                              Gradients<float>, const Options&);
template double unfused<double>(const Problem&, Estimator, const double*, const double*,
                                Gradients<double>, const Options&);

}  // namespace imx::mi
