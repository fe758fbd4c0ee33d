// The unfused baseline: the whole (B*K) x (B*P) score matrix from one gemm (OpenBLAS-threaded),
// the estimator's reductions over bands of rows (OpenMP), dLoss/ds formed in place, and two
// gemms for the gradients. Same estimator code as the fused kernel (estimator_run.h); only the
// way the score matrix is produced differs.
#include "blas/gemm.h"
#include "losses/mi/dispatch.h"
#include "losses/mi/estimator_run.h"
#include "losses/mi/mi.h"
#include "losses/mi/scratch.h"
#include "losses/mi/stored_sweep.h"

namespace imx::mi {
namespace {

using cpu::Block;
using cpu::Geometry;

// The stored-matrix sweep over S = G L^T, which this sweep owns, followed by the two gradient
// products dG = dS L and dL = dS^T G.
template <class T>
class UnfusedSweep {
 public:
  UnfusedSweep(const Geometry& g, int threads, const T* local, const T* global, Gradients<T> grads,
               T alpha, MemoryMeter& meter)
      : g_(g), local_(local), global_(global), grads_(grads), alpha_(alpha),
        scores_(meter, std::size_t(g.R) * g.C), stored_(g, threads, scores_.data(), grads.any()) {
    blas::gemm<T>(false, true, g.R, g.C, g.D, T(1), global, g.D, local, g.D, T(0), scores_.data(), g.C);
  }

  int slots() const { return stored_.slots(); }
  bool wants_grads() const { return stored_.wants_grads(); }
  template <class F>
  void for_each_block(F&& on_block) {
    stored_.for_each_block(on_block);
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
  const T* local_;
  const T* global_;
  Gradients<T> grads_;
  T alpha_;
  Scratch<T> scores_;
  cpu::StoredSweep<T> stored_;  // after scores_: it walks that matrix
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
    return UnfusedSweep<T>(g, threads, local, global, grads, T(opt.grad_scale), meter);
  });
}

template float unfused<float>(const Problem&, Estimator, const float*, const float*,
                              Gradients<float>, const Options&);
template double unfused<double>(const Problem&, Estimator, const double*, const double*,
                                Gradients<double>, const Options&);

}  // namespace imx::mi
