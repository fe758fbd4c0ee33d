// `dim-bench mi`: forward and forward+backward time of the fused MI kernel beside the unfused
// baseline and the naive materializing path, in the same run, with the achieved GFLOP/s
// against the sgemm ceiling (the faster of OpenBLAS and oneDNN, bench/common/timing.h)
// measured in this run and the scratch memory each needs.
// With --device cuda: the cuBLAS path and the CUDA kernels per precision against the cuBLAS
// GEMMs of the same problem and the device peak (run_cuda).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/common/subcommands.h"
#include "bench/common/timing.h"
#include "engine/backend.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "losses/dim/mi_cuda_bridge.h"
#include "losses/mi/mi.h"

namespace imx::bench {
namespace {

using mi::Estimator;
using mi::Impl;
using mi::Problem;

struct Args {
  std::vector<std::string> estimators;
  std::vector<int64_t> B, P, D;
  int64_t K = 1;
  std::string device = "cpu";
  std::vector<std::string> impls;  // empty: cpu naive, unfused, fused; cuda blas, fused
  std::vector<std::string> precisions{"fp32", "tf32", "bf16"};  // --device cuda only
  bool all = false, json = false;
  int reps = 3, threads = 0;
  int64_t tile = 0;
  double score_cache_mb = double(mi::kDefaultScoreCacheBytes) / (1 << 20);
  double max_gb = 8.0;
  int ceiling_n = 2048;
};

struct Case {
  Estimator e;
  Problem pb;
  std::vector<Impl> only;  // empty: every implementation asked for
};

const std::vector<int64_t> kGridB{64, 128, 256, 512}, kGridP{49, 64, 225}, kGridD{64, 512, 2048};

// About three minutes on 2 quiet cores: the target size (B=256, P=64, D=512) for every
// softmax-type estimator and JSD against all three implementations, a spread of shapes for
// infoNCE, and the memory growth of fused vs unfused over B at P=225 (where the naive path
// needs 0.8 GB at B=64 and 54 GB at B=512; its timing is shown where it takes seconds, not
// minutes).
std::vector<Case> default_cases(int64_t K) {
  const std::vector<Impl> all{Impl::naive, Impl::unfused, Impl::fused};
  const std::vector<Impl> no_naive{Impl::unfused, Impl::fused};
  std::vector<Case> cases;
  for (Estimator e : {Estimator::infonce, Estimator::infonce_exact, Estimator::dv, Estimator::jsd})
    cases.push_back({e, {256, 64, 512, K}, all});
  cases.push_back({Estimator::infonce, {64, 49, 64, K}, all});
  cases.push_back({Estimator::infonce, {128, 64, 2048, K}, all});
  cases.push_back({Estimator::infonce, {64, 225, 64, K}, all});
  for (int64_t B : {128, 256}) cases.push_back({Estimator::infonce, {B, 225, 64, K}, no_naive});
  cases.push_back({Estimator::infonce, {512, 225, 64, K}, all});  // naive: skipped for memory
  cases.push_back({Estimator::infonce, {512, 225, 512, K}, no_naive});
  return cases;
}

std::vector<Case> selected_cases(const Args& a) {
  const bool any_filter = !a.estimators.empty() || !a.B.empty() || !a.P.empty() || !a.D.empty();
  if (!a.all && !any_filter) return default_cases(a.K);
  std::vector<Estimator> es;
  for (const std::string& name : a.estimators) es.push_back(mi::parse_estimator(name));
  if (es.empty()) {
    if (a.all) es.assign(std::begin(mi::kAllEstimators), std::end(mi::kAllEstimators));
    else es = {Estimator::infonce};
  }
  auto pick = [&](const std::vector<int64_t>& given, const std::vector<int64_t>& grid, int64_t one) {
    return !given.empty() ? given : (a.all ? grid : std::vector<int64_t>{one});
  };
  std::vector<Case> cases;
  for (int64_t D : pick(a.D, kGridD, 512))
    for (int64_t P : pick(a.P, kGridP, 64))
      for (int64_t B : pick(a.B, kGridB, 256))
        for (Estimator e : es) cases.push_back({e, {B, P, D, a.K}, {}});
  return cases;
}

// Features with scores of a few units (like a trained critic's), from a cheap generator.
struct Data {
  Problem pb;
  std::vector<float> local, global, dlocal, dglobal;
};

void fill_uniform(std::vector<float>& v, float half_width, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& f : v) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    f = half_width * (float(x >> 40) / float(1 << 24) * 2.0f - 1.0f);
  }
}

void make_data(Data& d, const Problem& pb) {
  if (d.pb.B == pb.B && d.pb.P == pb.P && d.pb.D == pb.D && d.pb.K == pb.K) return;
  d.pb = pb;
  // Score variance D * var^2 with var = a^2 / 3: choose var so the score std is about 2.
  const float a = float(std::sqrt(3.0 * 2.0 / std::sqrt(double(pb.D))));
  d.local.assign(pb.cols() * pb.D, 0.0f);
  d.global.assign(pb.rows() * pb.D, 0.0f);
  fill_uniform(d.local, a, 1);
  fill_uniform(d.global, a, 2);
  d.dlocal.assign(d.local.size(), 0.0f);
  d.dglobal.assign(d.global.size(), 0.0f);
}

struct Row {
  Case c;
  Impl impl;
  std::optional<std::string> skipped;
  std::string device = "cpu";
  double fwd_ms = 0, fwd_bwd_ms = 0, extra_mb = 0;
  double gflops() const {  // three products of (B*K) x (B*P) x D, two flops per multiply-add
    return 6.0 * double(c.pb.rows()) * double(c.pb.cols()) * double(c.pb.D) / (fwd_bwd_ms * 1e-3) / 1e9;
  }
};

Row measure(const Case& c, Impl impl, Data& data, const Args& a, int threads) {
  Row row{c, impl, std::nullopt};
  mi::Options opt;
  opt.threads = threads;
  opt.tile_cols = impl == Impl::fused ? a.tile : 0;
  opt.score_cache_bytes = std::size_t(a.score_cache_mb * (1 << 20));
  const std::size_t need = mi::extra_bytes(impl, c.pb, c.e, sizeof(float), true, opt);
  if (double(need) > a.max_gb * 1e9) {
    char reason[128];
    std::snprintf(reason, sizeof reason, "needs %.1f GB of scratch > %.0f GB limit", double(need) / 1e9, a.max_gb);
    row.skipped = reason;
    return row;
  }
  make_data(data, c.pb);
  std::size_t peak = 0;
  opt.peak_extra_bytes = &peak;
  row.fwd_ms = median_ms(a.reps, [&] {
    mi::compute<float>(impl, c.pb, c.e, data.local.data(), data.global.data(), {}, opt);
  });
  row.fwd_bwd_ms = median_ms(a.reps, [&] {
    mi::compute<float>(impl, c.pb, c.e, data.local.data(), data.global.data(),
                       {data.dlocal.data(), data.dglobal.data()}, opt);
  });
  row.extra_mb = double(peak) / 1e6;
  return row;
}

// --device cuda: every path (cuBLAS around the estimator sweeps, fused kernels, unfused
// kernels) in every precision asked for, beside the cuBLAS GEMMs of the same problem (S, dL,
// dG alone: what any formulation must at least run) and the datasheet peak. One JSON object per
// (case, precision, path), keys stable for the GPU bundle and any sibling rows (a PyTorch
// formulation can print the same keys with its own "impl").
struct CudaRow {
  Case c;
  detail::MiCudaPath path;
  detail::MiCudaPrecision precision;
  std::optional<std::string> skipped;
  double fwd_ms = 0, fwd_bwd_ms = 0, gemm_ms = 0, extra_mb = 0;
};

// H200 SXM dense rates by the datasheet (TFLOP/s): a lead, not a measurement
// (/work/.library/device/H200.md); the measured comparison is the cuBLAS GEMM column.
double peak_tflops(detail::MiCudaPrecision p) {
  switch (p) {
    case detail::MiCudaPrecision::fp32: return 67.0;
    case detail::MiCudaPrecision::tf32: return 495.0;
    case detail::MiCudaPrecision::bf16: return 990.0;
  }
  return 0.0;
}

double mi_flops(const Problem& pb) { return 6.0 * double(pb.rows()) * double(pb.cols()) * double(pb.D); }

std::vector<Case> default_cuda_cases(int64_t K) {
  std::vector<Case> cases;
  for (Estimator e : {Estimator::infonce, Estimator::jsd}) {
    cases.push_back({e, {64, 64, 512, K}, {}});     // the training size
    cases.push_back({e, {512, 225, 2048, K}, {}});  // the target size of the tensor-core kernels
  }
  return cases;
}

CudaRow measure_cuda(const Case& c, detail::MiCudaPath path, detail::MiCudaPrecision precision, const Args& a) {
  CudaRow row{c, path, precision, std::nullopt};
  const std::size_t need = detail::mi_cuda_path_workspace_bytes(c.pb, c.e, path, true);
  if (double(need) > a.max_gb * 1e9) {
    row.skipped = "needs " + std::to_string(double(need) / 1e9) + " GB of workspace";
    return row;
  }
  Generator gen(1);
  const float half = float(std::sqrt(3.0 * 2.0 / std::sqrt(double(c.pb.D))));  // scores of a few units
  const Tensor L = uniform({c.pb.B, c.pb.P, c.pb.D}, -half, half, gen, DType::F32, Device::CUDA);
  const Tensor G = uniform({c.pb.B, c.pb.K, c.pb.D}, -half, half, gen, DType::F32, Device::CUDA);
  Tensor loss = Tensor::empty({}, DType::F32, Device::CUDA);
  Tensor gl = Tensor::empty(L.shape(), DType::F32, Device::CUDA);
  Tensor gg = Tensor::empty(G.shape(), DType::F32, Device::CUDA);
  Backend& dev = backend(Device::CUDA);
  row.fwd_ms = median_ms(a.reps, [&] {
    detail::mi_cuda_path(c.pb, c.e, path, precision, L, G, loss, nullptr, nullptr);
    dev.synchronize();
  });
  row.fwd_bwd_ms = median_ms(a.reps, [&] {
    detail::mi_cuda_path(c.pb, c.e, path, precision, L, G, loss, &gl, &gg);
    dev.synchronize();
  });
  row.gemm_ms = median_ms(a.reps, [&] {
    detail::mi_cuda_gemms(c.pb, precision, L, G, gl, gg);
    dev.synchronize();
  });
  row.extra_mb = double(need) / 1e6;
  return row;
}

void print_cuda_json(const CudaRow& r) {
  const double flops = mi_flops(r.c.pb), peak = peak_tflops(r.precision);
  nlohmann::json j{{"bench", "mi"},
                   {"device", "cuda"},
                   {"estimator", std::string(mi::estimator_name(r.c.e))},
                   {"impl", detail::mi_cuda_path_name(r.path)},
                   {"precision", detail::mi_cuda_precision_name(r.precision)},
                   {"B", r.c.pb.B},
                   {"P", r.c.pb.P},
                   {"D", r.c.pb.D},
                   {"K", r.c.pb.K},
                   {"flops", flops},
                   {"peak_tflops", peak}};
  if (r.skipped) {
    j["skipped"] = *r.skipped;
    for (const char* k : {"fwd_ms", "fwd_bwd_ms", "tflops", "cublas_gemm_ms", "cublas_gemm_tflops",
                          "pct_of_cublas_gemm", "pct_of_peak", "extra_mem_mb"})
      j[k] = nullptr;
  } else {
    const double tflops = flops / (r.fwd_bwd_ms * 1e-3) / 1e12, gemm = flops / (r.gemm_ms * 1e-3) / 1e12;
    j["fwd_ms"] = r.fwd_ms;
    j["fwd_bwd_ms"] = r.fwd_bwd_ms;
    j["tflops"] = tflops;
    j["cublas_gemm_ms"] = r.gemm_ms;
    j["cublas_gemm_tflops"] = gemm;
    j["pct_of_cublas_gemm"] = 100.0 * tflops / gemm;
    j["pct_of_peak"] = 100.0 * tflops / peak;
    j["extra_mem_mb"] = r.extra_mb;
  }
  std::cout << j.dump() << std::endl;
}

void print_cuda_human(const CudaRow& r) {
  std::printf("%-14s %-8s %-5s %4lld %4lld %5lld %2lld ", std::string(mi::estimator_name(r.c.e)).c_str(),
              detail::mi_cuda_path_name(r.path), detail::mi_cuda_precision_name(r.precision), (long long)r.c.pb.B,
              (long long)r.c.pb.P, (long long)r.c.pb.D, (long long)r.c.pb.K);
  if (r.skipped) {
    std::printf("skipped: %s\n", r.skipped->c_str());
    return;
  }
  const double flops = mi_flops(r.c.pb);
  const double tflops = flops / (r.fwd_bwd_ms * 1e-3) / 1e12, gemm = flops / (r.gemm_ms * 1e-3) / 1e12;
  std::printf("%9.3f %11.3f %8.1f %9.1f %6.0f%% %6.0f%% %10.1f\n", r.fwd_ms, r.fwd_bwd_ms, tflops, gemm,
              100.0 * tflops / gemm, 100.0 * tflops / peak_tflops(r.precision), r.extra_mb);
  std::fflush(stdout);
}

void run_cuda(const Args& a) {
  if (!cuda_backend_available()) throw std::runtime_error("--device cuda: " + cuda_unavailable_reason());
  std::vector<detail::MiCudaPath> paths;
  for (const std::string& name : a.impls) {
    if (name == "blas") paths.push_back(detail::MiCudaPath::blas);
    else if (name == "fused") paths.push_back(detail::MiCudaPath::fused);
    else if (name == "unfused") paths.push_back(detail::MiCudaPath::unfused);
    else
      throw std::runtime_error("--impl on cuda: blas, fused or unfused, got '" + name + "'");
  }
  if (paths.empty()) paths = {detail::MiCudaPath::blas, detail::MiCudaPath::fused};
  std::vector<detail::MiCudaPrecision> precisions;
  for (const std::string& p : a.precisions) precisions.push_back(detail::mi_cuda_options_from(nullptr, p.c_str()).precision);
  const bool any_filter = !a.estimators.empty() || !a.B.empty() || !a.P.empty() || !a.D.empty();
  const std::vector<Case> cases = a.all || any_filter ? selected_cases(a) : default_cuda_cases(a.K);
  if (!a.json) {
    std::printf("TFLOP/s = 6*(B*K)*(B*P)*D / fwd+bwd time; cuBLAS GEMM = the same three products alone "
                "(S, dL, dG) in the same precision; peak = H200 datasheet (dense); median of %d reps\n",
                a.reps);
    std::printf("%-14s %-8s %-5s %4s %4s %5s %2s %9s %11s %8s %9s %7s %7s %10s\n", "estimator", "impl", "prec", "B",
                "P", "D", "K", "fwd ms", "fwd+bwd ms", "TFLOP/s", "GEMM TF/s", "%GEMM", "%peak", "extra MB");
  }
  for (const Case& c : cases)
    for (detail::MiCudaPrecision p : precisions)
      for (detail::MiCudaPath path : paths) {
        const CudaRow r = measure_cuda(c, path, p, a);
        if (a.json) print_cuda_json(r);
        else print_cuda_human(r);
      }
}

void print_json(const Row& r, double ceiling, int threads) {
  nlohmann::json j{{"estimator", std::string(mi::estimator_name(r.c.e))},
                   {"impl", std::string(mi::impl_name(r.impl))},
                   {"device", r.device},
                   {"B", r.c.pb.B},
                   {"P", r.c.pb.P},
                   {"D", r.c.pb.D},
                   {"K", r.c.pb.K},
                   {"threads", threads},
                   {"ceiling_gflops", ceiling}};
  if (r.skipped) {
    j["skipped"] = *r.skipped;
    for (const char* k : {"fwd_ms", "fwd_bwd_ms", "gflops", "extra_mem_mb", "pct_of_ceiling"}) j[k] = nullptr;
  } else {
    j["fwd_ms"] = r.fwd_ms;
    j["fwd_bwd_ms"] = r.fwd_bwd_ms;
    j["gflops"] = r.gflops();
    j["pct_of_ceiling"] = 100.0 * r.gflops() / ceiling;
    j["extra_mem_mb"] = r.extra_mb;
  }
  std::cout << j.dump() << std::endl;
}

void print_header(int threads, int ceiling_n) {
  std::printf("ceiling: sgemm %d^3 (the faster of OpenBLAS and oneDNN) on %d thread(s), best of 3, measured before "
              "each case\n",
              ceiling_n, threads);
  std::printf("GFLOP/s = 6*(B*K)*(B*P)*D / fwd+bwd time (the three products: scores, dG, dL); "
              "float32; median of the reps after a warm-up (one rep when a run takes over 2 s)\n");
  std::printf("%-14s %-8s %4s %4s %5s %2s %10s %11s %8s %8s %6s %10s %9s %10s\n", "estimator", "impl", "B", "P",
              "D", "K", "fwd ms", "fwd+bwd ms", "GFLOP/s", "ceiling", "%ceil", "extra MB", "vs naive", "vs unfused");
}

void print_human(const Row& r, double ceiling, const std::map<Impl, double>& baseline_ms) {
  std::printf("%-14s %-8s %4lld %4lld %5lld %2lld ", std::string(mi::estimator_name(r.c.e)).c_str(),
              std::string(mi::impl_name(r.impl)).c_str(), (long long)r.c.pb.B, (long long)r.c.pb.P,
              (long long)r.c.pb.D, (long long)r.c.pb.K);
  if (r.skipped) {
    std::printf("skipped: %s\n", r.skipped->c_str());
    return;
  }
  auto ratio = [&](Impl base) -> std::string {
    auto it = baseline_ms.find(base);
    if (r.impl == base || it == baseline_ms.end()) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fx", it->second / r.fwd_bwd_ms);
    return buf;
  };
  std::printf("%10.2f %11.2f %8.1f %8.1f %5.0f%% %10.1f %9s %10s\n", r.fwd_ms, r.fwd_bwd_ms, r.gflops(), ceiling,
              100.0 * r.gflops() / ceiling, r.extra_mb, ratio(Impl::naive).c_str(), ratio(Impl::unfused).c_str());
  std::fflush(stdout);
}

void run(const Args& a) {
  if (a.device != "cpu" && a.device != "cuda")
    throw std::runtime_error("--device must be cpu or cuda, got '" + a.device + "'");
  if (a.reps < 1) throw std::runtime_error("--reps must be >= 1, got " + std::to_string(a.reps));
  if (a.device == "cuda") {
    run_cuda(a);
    return;
  }
  std::vector<Impl> impls;
  for (const std::string& name : a.impls) impls.push_back(mi::parse_impl(name));
  if (impls.empty()) impls = {Impl::naive, Impl::unfused, Impl::fused};
  std::sort(impls.begin(), impls.end());  // naive, unfused, fused: baselines first
  const std::vector<Case> cases = selected_cases(a);
  const int threads = mi::resolve_threads(mi::Options{.threads = a.threads});

  if (a.ceiling_n < 1) throw std::runtime_error("--ceiling-n must be >= 1, got " + std::to_string(a.ceiling_n));
  if (!a.json) print_header(threads, a.ceiling_n);
  Data data;
  for (const Case& c : cases) {
    // Re-measured for every case: on a shared machine the available compute drifts, and the
    // percentages should compare against the ceiling of the same moment.
    const double ceiling = sgemm_ceiling_gflops(threads, a.ceiling_n);
    std::map<Impl, double> baseline_ms;
    for (Impl impl : impls) {
      if (!c.only.empty() && std::find(c.only.begin(), c.only.end(), impl) == c.only.end()) continue;
      Row r = measure(c, impl, data, a, threads);
      r.device = a.device;
      if (!r.skipped) baseline_ms[impl] = r.fwd_bwd_ms;
      if (a.json) print_json(r, ceiling, threads);
      else print_human(r, ceiling, baseline_ms);
    }
  }
}

}  // namespace

void add_mi_subcommand(CLI::App& app) {
  auto args = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand(
      "mi", "Mutual-information loss kernels: fused vs unfused vs naive, forward and forward+backward.\n"
            "Without size/estimator flags: a representative subset (a few minutes on 2 cores).");
  sub->add_option("--estimator", args->estimators, "Estimators (" + mi::estimator_names() + ")")->delimiter(',');
  sub->add_option("--B", args->B, "Batch sizes (grid: 64,128,256,512)")->delimiter(',');
  sub->add_option("--P", args->P, "Locations per image (grid: 49,64,225)")->delimiter(',');
  sub->add_option("--D", args->D, "Feature widths (grid: 64,512,2048)")->delimiter(',');
  sub->add_option("--K", args->K, "Global vectors per image")->capture_default_str();
  sub->add_option("--device", args->device,
                  "cpu, or cuda: the cuBLAS path and the fused (and, with --impl, unfused) kernels in "
                  "each --precision, against the cuBLAS GEMMs of the same problem and the H200 peak")
      ->capture_default_str();
  sub->add_option("--impl", args->impls,
                  "Implementations to time (cpu: fused, unfused, naive; cuda: blas, fused, unfused; "
                  "default on cuda: blas, fused)")
      ->delimiter(',');
  sub->add_option("--precision", args->precisions, "cuda: products in fp32, tf32, bf16 (default all three)")
      ->delimiter(',');
  sub->add_flag("--all", args->all, "Whole grid: every estimator x B x P x D (long)");
  sub->add_flag("--json", args->json, "One JSON object per line instead of the table");
  sub->add_option("--reps", args->reps, "Timed repetitions (median reported) after one warm-up")->capture_default_str();
  sub->add_option("--threads", args->threads, "Threads (0 = OpenMP default)")->capture_default_str();
  sub->add_option("--tile", args->tile, "Fused column-tile width (0 = automatic)")->capture_default_str();
  sub->add_option("--score-cache-mb", args->score_cache_mb,
                  "Fused infoNCE and DV: MiB of first-pass score tiles kept for the gradient pass (0 = recompute all; DV then runs in one pass)")
      ->capture_default_str();
  sub->add_option("--ceiling-n", args->ceiling_n, "Size n of the n^3 sgemm that measures the ceiling")
      ->capture_default_str();
  sub->add_option("--max-gb", args->max_gb, "Skip an implementation needing more scratch than this")->capture_default_str();
  sub->callback([args] { run(*args); });
}

}  // namespace imx::bench
