#include "engine/cpu/onednn_conv.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/cpu/caching_allocator.h"

#ifdef IMX_HAVE_ONEDNN
#include <dnnl.hpp>
#endif

namespace imx::cpu {

namespace {

ConvLibrary library_from_env() {
  const char* v = std::getenv("IMX_CONV");
  const std::string s = v ? v : "";
  if (s.empty() || s == "auto") return ConvLibrary::automatic;
  if (s == "im2col") return ConvLibrary::im2col;
  if (s == "onednn") {
#ifndef IMX_HAVE_ONEDNN
    throw std::runtime_error("IMX_CONV=onednn: this build has no oneDNN (install libdnnl-dev, rebuild)");
#endif
    return ConvLibrary::onednn;
  }
  throw std::runtime_error("IMX_CONV=" + s + ": expected auto, im2col or onednn");
}

std::atomic<ConvLibrary>& library_setting() {
  static std::atomic<ConvLibrary> setting{library_from_env()};
  return setting;
}

}  // namespace

ConvLibrary conv_library() { return library_setting().load(); }

void set_conv_library(ConvLibrary library) {
#ifndef IMX_HAVE_ONEDNN
  if (library == ConvLibrary::onednn) throw std::runtime_error("set_conv_library(onednn): this build has no oneDNN");
#endif
  library_setting().store(library);
}

const char* conv_library_name(ConvLibrary library) {
  switch (library) {
    case ConvLibrary::automatic: return "auto";
    case ConvLibrary::im2col: return "im2col";
    case ConvLibrary::onednn: return "onednn";
  }
  return "?";
}

#ifdef IMX_HAVE_ONEDNN
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

dnnl::engine& cpu_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// One geometry's three primitives, each with the layouts it chose for its arguments.
struct Plan {
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_backward_data::primitive_desc data_pd;
  dnnl::convolution_backward_weights::primitive_desc filter_pd;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data data;
  dnnl::convolution_backward_weights filter;
  memory::desc act_in, act_out, filt;  // the engine's NCHW / OIHW layouts
};

Plan make_plan(const ConvGeometry& g) {
  const memory::dims src{g.n, g.c_in, g.h_in, g.w_in}, wei{g.c_out, g.c_in, g.kh, g.kw},
      dst{g.n, g.c_out, g.h_out, g.w_out}, strides{g.stride, g.stride}, pad{g.pad, g.pad};
  // The padding on the far side that makes the output size the engine's (floor division).
  const memory::dims pad_r{(g.h_out - 1) * g.stride + g.kh - g.h_in - g.pad,
                           (g.w_out - 1) * g.stride + g.kw - g.w_in - g.pad};
  const auto f32 = memory::data_type::f32;
  const memory::desc s_any(src, f32, Tag::any), w_any(wei, f32, Tag::any), d_any(dst, f32, Tag::any);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  auto& eng = cpu_engine();
  const auto algo = dnnl::algorithm::convolution_direct;
  Plan p{
      dnnl::convolution_forward::primitive_desc(
          {dnnl::prop_kind::forward_training, algo, s_any, w_any, d_any, strides, pad, pad_r}, attr, eng),
      {}, {}, {}, {}, {}, memory::desc(src, f32, Tag::nchw), memory::desc(dst, f32, Tag::nchw),
      memory::desc(wei, f32, Tag::oihw)};
  p.data_pd = dnnl::convolution_backward_data::primitive_desc({algo, s_any, w_any, d_any, strides, pad, pad_r},
                                                              attr, eng, p.fwd_pd);
  p.filter_pd = dnnl::convolution_backward_weights::primitive_desc(
      {algo, s_any, w_any, d_any, strides, pad, pad_r}, attr, eng, p.fwd_pd);
  p.fwd = dnnl::convolution_forward(p.fwd_pd);
  p.data = dnnl::convolution_backward_data(p.data_pd);
  p.filter = dnnl::convolution_backward_weights(p.filter_pd);
  return p;
}

// The cached plan of a geometry, created on first use; null where oneDNN has no kernel for it.
// The cache is bounded, so that a run over many batch sizes does not grow without end.
std::shared_ptr<const Plan> plan_for(const ConvGeometry& g) {
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
  static std::mutex mutex;
  static std::map<Key, std::shared_ptr<const Plan>> plans;
  const Key key{g.n, g.c_in, g.h_in, g.w_in, g.c_out, g.kh, g.kw, g.stride, g.pad};
  std::lock_guard<std::mutex> lock(mutex);
  auto it = plans.find(key);
  if (it != plans.end()) return it->second;
  if (plans.size() >= 64) plans.clear();  // callers hold their plans by shared_ptr
  std::shared_ptr<const Plan> plan;
  try {
    plan = std::make_shared<const Plan>(make_plan(g));
  } catch (const dnnl::error&) {
    // No implementation of this geometry (oneDNN says "unimplemented"): im2col runs it.
  }
  return plans.emplace(key, plan).first->second;
}

// The plan of a pass that onednn_conv_runs() admitted.
const Plan& plan_of(const ConvGeometry& g, std::shared_ptr<const Plan>& hold) {
  hold = plan_for(g);
  if (!hold)
    throw std::runtime_error("IMX_CONV=onednn: oneDNN has no convolution for input [" + std::to_string(g.n) + ", " +
                             std::to_string(g.c_in) + ", " + std::to_string(g.h_in) + ", " + std::to_string(g.w_in) +
                             "], filter " + std::to_string(g.kh) + "x" + std::to_string(g.kw) + ", stride " +
                             std::to_string(g.stride) + ", pad " + std::to_string(g.pad));
  return *hold;
}

// Runs one primitive on the engine's buffers, reordering each argument to and from the layout
// the primitive chose where it differs. Buffers come from the caching allocator.
class Call {
 public:
  Call() : stream_(cpu_engine()) {}

  // An input in the engine's layout `user`, seen by the primitive as `wanted`.
  void input(int arg, const memory::desc& user, const memory::desc& wanted, const void* data) {
    memory m(user, cpu_engine(), const_cast<void*>(data));
    if (user == wanted) {
      args_[arg] = m;
      return;
    }
    memory r = scratch(wanted);
    dnnl::reorder(m, r).execute(stream_, m, r);
    args_[arg] = r;
  }
  // An output the primitive writes as `produced`, delivered in the engine's layout `user`.
  void output(int arg, const memory::desc& user, const memory::desc& produced, void* data) {
    memory m(user, cpu_engine(), data);
    if (user == produced) {
      args_[arg] = m;
      return;
    }
    memory r = scratch(produced);
    args_[arg] = r;
    pending_.emplace_back(r, m);
  }
  void run(const dnnl::primitive& prim, const memory::desc& scratchpad) {
    if (scratchpad.get_size() > 0) args_[DNNL_ARG_SCRATCHPAD] = scratch(scratchpad);
    prim.execute(stream_, args_);
    for (auto& [from, to] : pending_) dnnl::reorder(from, to).execute(stream_, from, to);
    stream_.wait();
  }

 private:
  memory scratch(const memory::desc& d) {
    blocks_.push_back(CachingAllocator::instance().allocate(d.get_size()));
    return memory(d, cpu_engine(), blocks_.back().get());
  }
  dnnl::stream stream_;
  std::unordered_map<int, memory> args_;
  std::vector<std::pair<memory, memory>> pending_;
  std::vector<std::shared_ptr<void>> blocks_;
};

}  // namespace

bool onednn_conv_runs(const ConvGeometry& g, ConvPass pass) {
  switch (conv_library()) {
    case ConvLibrary::im2col: return false;
    case ConvLibrary::onednn: return true;  // plan_of() says so where oneDNN has no kernel
    case ConvLibrary::automatic:
      // oneDNN's data gradient for 3 input channels ran at ~40 GFLOP/s, well below im2col.
      return (pass != ConvPass::backward_data || g.c_in >= 8) && plan_for(g) != nullptr;
  }
  return false;
}

void onednn_conv_forward(const ConvGeometry& g, const float* x, const float* w, float* y) {
  std::shared_ptr<const Plan> hold;
  const Plan& p = plan_of(g, hold);
  Call c;
  c.input(DNNL_ARG_SRC, p.act_in, p.fwd_pd.src_desc(), x);
  c.input(DNNL_ARG_WEIGHTS, p.filt, p.fwd_pd.weights_desc(), w);
  c.output(DNNL_ARG_DST, p.act_out, p.fwd_pd.dst_desc(), y);
  c.run(p.fwd, p.fwd_pd.scratchpad_desc());
}

void onednn_conv_backward_data(const ConvGeometry& g, const float* gy, const float* w, float* gx) {
  std::shared_ptr<const Plan> hold;
  const Plan& p = plan_of(g, hold);
  Call c;
  c.input(DNNL_ARG_DIFF_DST, p.act_out, p.data_pd.diff_dst_desc(), gy);
  c.input(DNNL_ARG_WEIGHTS, p.filt, p.data_pd.weights_desc(), w);
  c.output(DNNL_ARG_DIFF_SRC, p.act_in, p.data_pd.diff_src_desc(), gx);
  c.run(p.data, p.data_pd.scratchpad_desc());
}

void onednn_conv_backward_filter(const ConvGeometry& g, const float* x, const float* gy, float* gw) {
  std::shared_ptr<const Plan> hold;
  const Plan& p = plan_of(g, hold);
  Call c;
  c.input(DNNL_ARG_SRC, p.act_in, p.filter_pd.src_desc(), x);
  c.input(DNNL_ARG_DIFF_DST, p.act_out, p.filter_pd.diff_dst_desc(), gy);
  c.output(DNNL_ARG_DIFF_WEIGHTS, p.filt, p.filter_pd.diff_weights_desc(), gw);
  c.run(p.filter, p.filter_pd.scratchpad_desc());
}

#else  // no oneDNN in this build: onednn_conv_runs() is always false, so these never run

bool onednn_conv_runs(const ConvGeometry&, ConvPass) { return false; }

void onednn_conv_forward(const ConvGeometry&, const float*, const float*, float*) {
  throw std::logic_error("onednn_conv_forward: this build has no oneDNN");
}
void onednn_conv_backward_data(const ConvGeometry&, const float*, const float*, float*) {
  throw std::logic_error("onednn_conv_backward_data: this build has no oneDNN");
}
void onednn_conv_backward_filter(const ConvGeometry&, const float*, const float*, float*) {
  throw std::logic_error("onednn_conv_backward_filter: this build has no oneDNN");
}

#endif

}  // namespace imx::cpu
