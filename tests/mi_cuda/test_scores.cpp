// scores_async (the estimators over a given score matrix) against the float64 CPU from_scores
// on the same float32 matrix: every estimator, odd sizes, gradient scale, forward-only calls,
// in place, every thread schedule, and the workspace (the estimator's statistics only).
#include "tests/mi_cuda/mi_cuda_test_util.h"

#include <cstring>
#include <iterator>
#include <sstream>
#include <string>

namespace imx::mi::cuda_test {
namespace {

struct ScoresOutcome {
  double loss;
  std::vector<float> ds;  // empty for a forward-only call
};

// One call with a workspace of exactly the reported size; in_place writes dS over the scores.
ScoresOutcome run_scores(const Problem& pb, Estimator e, const std::vector<float>& S, bool grads,
                         float grad_scale = 1.0f, bool in_place = false) {
  const DeviceArray<float> scores(S);
  DeviceArray<float> ds(grads && !in_place ? S.size() : 0), loss(1);
  DeviceArray<unsigned char> workspace(dev::scores_workspace_bytes(pb, e, grads));
  float* out = !grads ? nullptr : in_place ? scores.get() : ds.get();
  dev::scores_async(pb, e, scores.get(), out, grad_scale, loss.get(), workspace.get(), workspace.size(), nullptr);
  check_cuda(cudaStreamSynchronize(nullptr), "cudaStreamSynchronize");
  ScoresOutcome r{double(loss.download()[0]), {}};
  if (grads) r.ds = in_place ? scores.download() : ds.download();
  return r;
}

ScoresOutcome reference_scores(const Problem& pb, Estimator e, const std::vector<float>& S, double grad_scale = 1.0) {
  Options opt;
  opt.threads = 1;  // the sanitizer builds do not see inside libgomp
  opt.grad_scale = grad_scale;
  std::vector<double> ds = cast<double>(S);
  const double loss = from_scores<double>(pb, e, ds.data(), true, opt);
  return {loss, cast<float>(ds)};
}

void check_close(const ScoresOutcome& got, const ScoresOutcome& ref, double tol) {
  CHECK(rel_err(got.loss, ref.loss) <= tol);
  CHECK(rel_err(got.ds, cast<double>(ref.ds)) <= tol);
}

// The score matrix of features of width 6 from mi_test_util (positives tend to score higher),
// in float32; pb.D (which the calls ignore) plays no part.
std::vector<float> score_matrix(Problem pb, double max_abs_score, uint64_t seed) {
  pb.D = 6;
  const Features f = make_features(pb, max_abs_score, seed);
  return cast<float>(scores_of(pb, f.local, f.global));
}

std::vector<Estimator> estimators() {
  if (kSanitized) return {Estimator::jsd, Estimator::infonce, Estimator::dv};
  return std::vector<Estimator>(std::begin(kAllEstimators), std::end(kAllEstimators));
}

std::string label(Estimator e, const Problem& pb) {
  std::ostringstream s;
  s << estimator_name(e) << " " << pb.to_string() << " scores";
  return s.str();
}

TEST_CASE("scores_async matches the float64 from_scores at odd sizes", "[mi_cuda][scores]") {
  // B=23 P=7 K=3: R=69, C=161, two row tiles and three column tiles, none full. pb.D is ignored
  // (0 here in one case).
  std::vector<Problem> cases = {{5, 3, 4, 1}, {5, 3, 4, 2}, {2, 1, 0, 1}, {23, 7, 1, 3}};
  if (kSanitized) cases = {{5, 3, 4, 2}, {2, 1, 0, 1}};
  for (const Problem& pb : cases) {
    const std::vector<float> S = score_matrix(pb, 8.0, pb.B * 10 + pb.K);
    for (Estimator e : estimators()) {
      INFO(label(e, pb));
      const ScoresOutcome ref = reference_scores(pb, e, S);
      check_close(run_scores(pb, e, S, true), ref, 1e-4);
      CHECK(rel_err(run_scores(pb, e, S, false).loss, ref.loss) <= 1e-4);
    }
  }
}

TEST_CASE("scores_async: gradient scale, in place, large scores, infoNCE at B = 1", "[mi_cuda][scores]") {
  const Problem pb{4, 5, 1, 2};
  const std::vector<float> S = score_matrix(pb, 6.0, 3);
  for (Estimator e : estimators()) {
    INFO(label(e, pb));
    const ScoresOutcome ref = reference_scores(pb, e, S, -2.5);
    check_close(run_scores(pb, e, S, true, -2.5f), ref, 1e-4);
    check_close(run_scores(pb, e, S, true, -2.5f, /*in_place=*/true), ref, 1e-4);
  }
  const std::vector<float> big = score_matrix(pb, 150.0, 4);
  for (Estimator e : estimators()) {
    if (!finite_for_finite_scores(e)) continue;
    INFO(label(e, pb) << " |s| <= 150");
    const ScoresOutcome out = run_scores(pb, e, big, true);
    CHECK(std::isfinite(out.loss));
    CHECK(all_finite(out.ds));
    check_close(out, reference_scores(pb, e, big), 1e-4);
  }
  const Problem one{1, 4, 1, 2};
  const std::vector<float> S1 = score_matrix(one, 5.0, 9);
  check_close(run_scores(one, Estimator::infonce, S1, true), reference_scores(one, Estimator::infonce, S1), 1e-4);
}

#if defined(IMX_SIMT_EMU)
TEST_CASE("scores_async: every thread schedule, bit for bit", "[mi_cuda][scores]") {
  const Problem pb = kSanitized ? Problem{3, 5, 1, 2} : Problem{23, 7, 1, 3};
  const std::vector<float> S = score_matrix(pb, 8.0, 77);
  const auto& schedules = imx::simt::standard_schedules();
  const std::size_t rounds = kSanitized ? 2 : schedules.size();
  for (Estimator e : {Estimator::jsd, Estimator::infonce, Estimator::dv}) {
    const ScoresOutcome ref = reference_scores(pb, e, S);
    ScoresOutcome first{};
    for (std::size_t round = 0; round < rounds; ++round) {
      const imx::simt::Schedule& schedule = kSanitized && round > 0 ? schedules.back() : schedules[round];
      const imx::simt::ScopedSchedule scoped(schedule);
      INFO(label(e, pb) << " schedule " << schedule.to_string());
      const ScoresOutcome out = run_scores(pb, e, S, true);
      check_close(out, ref, 1e-4);
      if (round == 0) {
        first = out;
        continue;
      }
      CHECK(out.loss == first.loss);
      CHECK(std::memcmp(out.ds.data(), first.ds.data(), out.ds.size() * sizeof(float)) == 0);
    }
  }
}
#endif

TEST_CASE("scores_async workspace: the estimator's statistics only, clear errors", "[mi_cuda][scores]") {
  const Problem pb{512, 225, 512, 1};
  const double score_matrix_bytes = 4.0 * double(pb.rows()) * double(pb.cols());
  for (Estimator e : {Estimator::jsd, Estimator::infonce, Estimator::dv}) {
    INFO(estimator_name(e));
    const std::size_t with = dev::scores_workspace_bytes(pb, e, true);
    CHECK(with == dev::scores_workspace_bytes(pb, e, false));  // dS goes to the caller's buffer
    // Exactly the fused forward's (loss, partials, row statistics): no dS chunk, no dG partials.
    CHECK(with == dev::fused_workspace_bytes(pb, e, false));
    CHECK(double(with) < 0.01 * score_matrix_bytes);
  }
  const Problem small{3, 4, 1, 1};
  const std::vector<float> S(small.rows() * small.cols(), 0.5f);
  const DeviceArray<float> scores(S);
  DeviceArray<float> loss(1);
  const std::size_t need = dev::scores_workspace_bytes(small, Estimator::jsd, false);
  DeviceArray<unsigned char> workspace(need);
  CHECK_THROWS_AS(dev::scores_async(small, Estimator::jsd, scores.get(), nullptr, 1.0f, loss.get(),
                                    workspace.get(), need - 1, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(dev::scores_async(small, Estimator::jsd, nullptr, nullptr, 1.0f, loss.get(), workspace.get(),
                                    need, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(dev::scores_async(small, Estimator::jsd, scores.get(), nullptr, 1.0f, nullptr,
                                    workspace.get(), need, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(dev::scores_workspace_bytes(Problem{1, 4, 1, 1}, Estimator::jsd, true), std::invalid_argument);
}

}  // namespace
}  // namespace imx::mi::cuda_test
