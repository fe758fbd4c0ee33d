// The estimators over a score matrix the caller already has (critics that output scores rather
// than feature vectors): the unfused kernel's stored-matrix sweep (stored_sweep.h) and the same
// estimator code (estimator_run.h), without the products.
#include "losses/mi/dispatch.h"
#include "losses/mi/estimator_run.h"
#include "losses/mi/mi.h"
#include "losses/mi/stored_sweep.h"

namespace imx::mi {
namespace {

// The problem with its feature width (unused here) set to 1, so validation ignores it.
Problem score_problem(const Problem& pb) {
  Problem q = pb;
  q.D = 1;
  return q;
}

}  // namespace

std::size_t from_scores_bytes(const Problem& pb, Estimator e, std::size_t elem_bytes, bool,
                              const Options& opt) {
  const Problem q = score_problem(pb);
  q.validate();
  const bool pointwise = visit_estimator(e, [](auto m) { return decltype(m)::pointwise; });
  return cpu::estimator_scratch_bytes(cpu::Geometry(q), pointwise, resolve_threads(opt), elem_bytes);
}

template <class T>
T from_scores(const Problem& pb, Estimator e, T* scores, bool grads, const Options& opt) {
  const Problem q = score_problem(pb);
  q.validate_for(e);
  const cpu::Geometry g(q);
  const int threads = resolve_threads(opt);
  return cpu::run_estimator<T>(g, e, opt, [&](MemoryMeter&) {
    return cpu::StoredSweep<T>(g, threads, scores, grads, T(opt.grad_scale));
  });
}

template float from_scores<float>(const Problem&, Estimator, float*, bool, const Options&);
template double from_scores<double>(const Problem&, Estimator, double*, bool, const Options&);

}  // namespace imx::mi
