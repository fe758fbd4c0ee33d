// The host logic of the cuBLAS path (losses/mi_cuda/blas_path.h) without cuBLAS: the same
// orchestration with a CPU column-major GEMM that reads each ColMajorGemm exactly as
// cublasGemmEx would, and the emulated estimator over the stored scores. Against the float64
// reference: every estimator, odd sizes, single gradients, gradient scale; and every descriptor
// satisfies cuBLAS's argument rules.
#include "tests/mi_cuda/mi_cuda_test_util.h"

#include <algorithm>
#include <iterator>

#include "losses/mi_cuda/blas_path.h"

namespace imx::mi::cuda_test {
namespace {

namespace bp = imx::mi::blas_path;

// cublasGemmEx's checks: every dimension >= 0, lda >= max(1, rows of the stored A), ...
void check_cublas_rules(const bp::ColMajorGemm& g) {
  CHECK(g.m >= 0);
  CHECK(g.n >= 0);
  CHECK(g.k >= 0);
  CHECK(g.lda >= std::max<int64_t>(1, g.trans_a ? g.k : g.m));
  CHECK(g.ldb >= std::max<int64_t>(1, g.trans_b ? g.n : g.k));
  CHECK(g.ldc >= std::max<int64_t>(1, g.m));
}

// C = op(A) op(B), column-major, as cuBLAS defines it (double accumulation).
void cpu_gemm(const bp::ColMajorGemm& g) {
  check_cublas_rules(g);
  for (int64_t j = 0; j < g.n; ++j)
    for (int64_t i = 0; i < g.m; ++i) {
      double s = 0;
      for (int64_t p = 0; p < g.k; ++p) {
        const double a = g.trans_a ? g.a[p + i * g.lda] : g.a[i + p * g.lda];
        const double b = g.trans_b ? g.b[j + p * g.ldb] : g.b[p + j * g.ldb];
        s += a * b;
      }
      g.c[i + j * g.ldc] = static_cast<float>(s);
    }
}

Outcome<float> run_blas(const Problem& pb, Estimator e, const std::vector<float>& L, const std::vector<float>& G,
                        const Request& req) {
  const DeviceArray<float> local(L), global(G);
  DeviceArray<float> dlocal(req.grad_local ? L.size() : 0), dglobal(req.grad_global ? G.size() : 0);
  const bool grads = req.grad_local || req.grad_global;
  const std::size_t rest = dev::scores_workspace_bytes(pb, e, grads);
  DeviceArray<unsigned char> workspace(bp::score_bytes(pb) + rest);
  DeviceArray<float> loss(1);
  bp::run(pb, local.get(), global.get(), req.grad_local ? dlocal.get() : nullptr,
          req.grad_global ? dglobal.get() : nullptr, workspace.get(), cpu_gemm,
          [&](const float* S, float* dS, unsigned char* ws) {
            dev::scores_async(pb, e, S, dS, req.grad_scale, loss.get(), ws, rest, nullptr);
          });
  Outcome<float> out;
  out.loss = loss.download()[0];
  if (req.grad_local) out.dlocal = dlocal.download();
  if (req.grad_global) out.dglobal = dglobal.download();
  return out;
}

TEST_CASE("the cuBLAS path's orchestration matches the float64 reference", "[mi_cuda][blas]") {
  std::vector<Problem> problems = {{7, 9, 33, 1}, {7, 9, 33, 3}, {2, 1, 1, 1}, {23, 7, 37, 3}};
  std::vector<Estimator> estimators(std::begin(kAllEstimators), std::end(kAllEstimators));
  if (kSanitized) {
    problems = {{3, 5, 7, 2}};
    estimators = {Estimator::jsd, Estimator::infonce, Estimator::dv};
  }
  for (const Problem& pb : problems) {
    const Features f = make_features(pb, 6.0, 3 + pb.K);
    const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
    for (Estimator e : estimators) {
      INFO(estimator_name(e) << " " << pb.to_string());
      const Outcome<double> ref = reference(pb, e, L, G, -1.5);
      Request req;
      req.grad_scale = -1.5f;
      check_close(run_blas(pb, e, L, G, req), ref, 1e-4);
      Request only_local = req, forward = req;
      only_local.grad_global = false;
      forward.grad_local = forward.grad_global = false;
      const Outcome<float> a = run_blas(pb, e, L, G, only_local);
      CHECK(rel_err(a.dlocal, ref.dlocal) <= 1e-4);
      CHECK(rel_err(run_blas(pb, e, L, G, forward).loss, ref.loss) <= 1e-4);
    }
  }
}

}  // namespace
}  // namespace imx::mi::cuda_test
