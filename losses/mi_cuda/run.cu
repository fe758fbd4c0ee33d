// The paths, written once over a score source (plan.h, launchers.h):
//   fused   - sweeps recompute score tiles from G and L; the backward forms dS one bounded
//             chunk of columns at a time and feeds it to the two gradient products;
//   unfused - S = G L^T is materialized first (the same tiled product), the sweeps read it, and
//             dS overwrites it in place before the same gradient products;
//   scores  - the sweeps read the caller's S and write dS to the caller's buffer; no features,
//             so no gradient products (scores_async).
// Per estimator family:
//   f-divergences  one sweep per chunk: loss sums and dS together, then dL, dG (3 products);
//   dv / infoNCE   a statistics sweep over all columns, the combine, then one sweep per chunk
//                  forming dS from N and a, then dL, dG (4 products fused, 3 unfused; 3 fused
//                  too when dS fits in one chunk: the statistics sweep then stores S there).
#include <stdexcept>
#include <string>

#include "losses/mi_cuda/launchers.h"
#include "losses/mi_cuda/mi_cuda.h"

namespace imx::mi::IMX_KNS {
namespace {

struct Call {
  Estimator e;
  const float* local;
  const float* global;
  float* grad_local;
  float* grad_global;
  float grad_scale;
  float* loss;
  cudaStream_t stream;
};

void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("mi_cuda: ") + what + " failed: " + cudaGetErrorString(status));
}

// dL[c0, c1) = dS_chunk^T G and dG (+)= dS_chunk L[c0, c1), with the chunk's dS at
// ds + r * ld_ds + (c - c0).
void gradient_products(const Plan& plan, const Workspace& ws, const Call& call, const float* ds, int64_t ld_ds,
                       int64_t c0, int64_t c1) {
  const Geometry& g = plan.g;
  const int64_t width = c1 - c0;
  if (call.grad_local != nullptr) {
    product(Operand<false>{ds, ld_ds, width, g.R}, Operand<false>{call.global, g.D, g.D, g.R},
            call.grad_local + c0 * g.D, g.D, false, 1, g.R, nullptr, plan.precision, plan.dl_tile, call.stream);
  }
  if (call.grad_global != nullptr) {
    const int splits = static_cast<int>(ceil_div(width, plan.dg_split_depth));
    product(Operand<true>{ds, ld_ds, g.R, width}, Operand<false>{call.local + c0 * g.D, g.D, g.D, width},
            call.grad_global, g.D, /*accumulate=*/c0 > 0, splits, plan.dg_split_depth, ws.dg_partials,
            plan.precision, plan.dg_tile, call.stream);
  }
}

// Everything after the score source is chosen; dS chunks go to ds_base (leading dimension
// ld_ds), whose column 0 is the chunk's first column.
void run_estimator(const Plan& plan, const Workspace& ws, const Call& call, const ScoreSource& source,
                   float* ds_base, int64_t ld_ds) {
  const int64_t C = plan.g.C;
  if (plan.pointwise) {
    if (!plan.grads) {
      sweep_pointwise(call.e, plan, source, 0, C, nullptr, 0, 0.0f, ws.pointwise_partials, false, call.stream);
    } else {
      for (int64_t c0 = 0; c0 < C; c0 += plan.chunk_cols) {
        const int64_t c1 = c0 + plan.chunk_cols < C ? c0 + plan.chunk_cols : C;
        sweep_pointwise(call.e, plan, source, c0, c1, ds_base, ld_ds, call.grad_scale, ws.pointwise_partials,
                        /*accumulate=*/c0 > 0, call.stream);
        gradient_products(plan, ws, call, ds_base, ld_ds, c0, c1);
      }
    }
    combine_pointwise(plan, ws.pointwise_partials, call.loss, call.stream);
    return;
  }
  // Store when it fits, recompute when it does not: when the backward keeps dS for all columns
  // at once (one chunk), the statistics sweep leaves S in that buffer and the backward reads it
  // (dS overwrites it in place) instead of recomputing every score tile.
  const bool store_scores = source.scores == nullptr && plan.grads && plan.chunk_cols == C && ld_ds == C;
  sweep_lse_stats(call.e, plan, source, ws.row_partials, ws.pos_scores, store_scores ? ds_base : nullptr,
                  call.stream);
  combine_lse(call.e, plan, ws, call.loss, call.stream);
  if (!plan.grads) return;
  const ScoreSource backward_source =
      store_scores ? ScoreSource{source.global, source.local, ds_base, source.precision} : source;
  for (int64_t c0 = 0; c0 < C; c0 += plan.chunk_cols) {
    const int64_t c1 = c0 + plan.chunk_cols < C ? c0 + plan.chunk_cols : C;
    sweep_lse_grad(call.e, plan, backward_source, c0, c1, ws.group_lse, ws.group_weight, call.grad_scale, ds_base,
                   ld_ds, call.stream);
    gradient_products(plan, ws, call, ds_base, ld_ds, c0, c1);
  }
}

// Runs one path; the loss goes to loss_device, or to the workspace's slot when that is null.
// Returns where it went.
float* run_path(Path path, const Problem& pb, Estimator e, const float* local, const float* global,
                float* grad_local, float* grad_global, float grad_scale, float* loss_device, void* workspace,
                std::size_t workspace_bytes, cudaStream_t stream, const KernelTuning& tuning) {
  const char* who = path == Path::fused ? "fused" : "unfused";
  if (local == nullptr || global == nullptr)
    throw std::invalid_argument(std::string("mi_cuda ") + who + ": the local and global features must not be null");
  const bool grads = grad_local != nullptr || grad_global != nullptr;
  const Plan plan = make_plan(path, pb, e, grads, tuning);
  const Workspace ws = carve_workspace(plan, workspace, workspace_bytes, who);
  const Call call{e, local, global, grad_local, grad_global, grad_scale, loss_device ? loss_device : ws.loss, stream};
  const Geometry& g = plan.g;
  if (path == Path::fused) {
    run_estimator(plan, ws, call, ScoreSource{global, local, nullptr, plan.sweep_precision}, ws.scores,
                  plan.chunk_cols);
  } else {
    product(Operand<true>{global, g.D, g.R, g.D}, Operand<true>{local, g.D, g.C, g.D}, ws.scores, g.C, false, 1,
            g.D, nullptr, plan.precision, plan.s_tile, stream);
    run_estimator(plan, ws, call, ScoreSource{global, local, ws.scores, plan.precision}, ws.scores, g.C);
  }
  return call.loss;
}

float read_loss(const float* loss_device, cudaStream_t stream) {
  float loss = 0.0f;
  check_cuda(cudaMemcpyAsync(&loss, loss_device, sizeof(float), cudaMemcpyDeviceToHost, stream),
             "cudaMemcpyAsync of the loss");
  check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize after the MI loss");
  return loss;
}

}  // namespace

void scores_async(const Problem& pb, Estimator e, const float* scores, float* grad_scores, float grad_scale,
                  float* loss_device, void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  if (scores == nullptr) throw std::invalid_argument("mi_cuda scores_async: scores must not be null");
  if (loss_device == nullptr) throw std::invalid_argument("mi_cuda scores_async: loss_device must not be null");
  const Plan plan = make_plan(Path::scores, pb, e, grad_scores != nullptr, {});
  const Workspace ws = carve_workspace(plan, workspace, workspace_bytes, "scores_async");
  // No features and no feature gradients: run_estimator's gradient products find nothing to do.
  const Call call{e, nullptr, nullptr, nullptr, nullptr, grad_scale, loss_device, stream};
  run_estimator(plan, ws, call, ScoreSource{nullptr, nullptr, scores}, grad_scores, plan.g.C);
}

void fused_async(const Problem& pb, Estimator e, const float* local, const float* global, float* grad_local,
                 float* grad_global, float grad_scale, float* loss_device, void* workspace,
                 std::size_t workspace_bytes, cudaStream_t stream, const KernelTuning& tuning) {
  if (loss_device == nullptr) throw std::invalid_argument("mi_cuda fused_async: loss_device must not be null");
  run_path(Path::fused, pb, e, local, global, grad_local, grad_global, grad_scale, loss_device, workspace,
           workspace_bytes, stream, tuning);
}

void unfused_async(const Problem& pb, Estimator e, const float* local, const float* global, float* grad_local,
                   float* grad_global, float grad_scale, float* loss_device, void* workspace,
                   std::size_t workspace_bytes, cudaStream_t stream, const KernelTuning& tuning) {
  if (loss_device == nullptr) throw std::invalid_argument("mi_cuda unfused_async: loss_device must not be null");
  run_path(Path::unfused, pb, e, local, global, grad_local, grad_global, grad_scale, loss_device, workspace,
           workspace_bytes, stream, tuning);
}

float fused(const Problem& pb, Estimator e, const float* local, const float* global, float* grad_local,
            float* grad_global, float grad_scale, void* workspace, std::size_t workspace_bytes, cudaStream_t stream,
            const KernelTuning& tuning) {
  return read_loss(run_path(Path::fused, pb, e, local, global, grad_local, grad_global, grad_scale, nullptr,
                            workspace, workspace_bytes, stream, tuning),
                   stream);
}

float unfused(const Problem& pb, Estimator e, const float* local, const float* global, float* grad_local,
              float* grad_global, float grad_scale, void* workspace, std::size_t workspace_bytes,
              cudaStream_t stream, const KernelTuning& tuning) {
  return read_loss(run_path(Path::unfused, pb, e, local, global, grad_local, grad_global, grad_scale, nullptr,
                            workspace, workspace_bytes, stream, tuning),
                   stream);
}

std::size_t workspace_bytes(Impl impl, const Problem& pb, Estimator e, bool with_grads, const KernelTuning& tuning) {
  switch (impl) {
    case Impl::fused: return fused_workspace_bytes(pb, e, with_grads, tuning);
    case Impl::unfused: return unfused_workspace_bytes(pb, e, with_grads, tuning);
    case Impl::naive: break;
  }
  throw std::invalid_argument("mi_cuda: implementation '" + std::string(impl_name(impl)) +
                              "' is not available on the device (fused, unfused)");
}

float compute(Impl impl, const Problem& pb, Estimator e, const float* local, const float* global, float* grad_local,
              float* grad_global, float grad_scale, void* workspace, std::size_t workspace_bytes, cudaStream_t stream,
              const KernelTuning& tuning) {
  switch (impl) {
    case Impl::fused:
      return fused(pb, e, local, global, grad_local, grad_global, grad_scale, workspace, workspace_bytes, stream, tuning);
    case Impl::unfused:
      return unfused(pb, e, local, global, grad_local, grad_global, grad_scale, workspace, workspace_bytes, stream,
                     tuning);
    case Impl::naive: break;
  }
  throw std::invalid_argument("mi_cuda: implementation '" + std::string(impl_name(impl)) +
                              "' is not available on the device (fused, unfused)");
}

}  // namespace imx::mi::IMX_KNS
