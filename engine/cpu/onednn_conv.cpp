#include "engine/cpu/onednn_conv.h"

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

#ifdef IMX_HAVE_ONEDNN
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

dnnl::engine& cpu_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// One argument of a pass: the engine's layout and the one the primitive chose.
struct Arg {
  int id;
  memory::desc user, wanted;
};
// One pass's primitive with its two inputs and its output.
struct PassPlan {
  dnnl::primitive prim;
  memory::desc scratchpad;
  Arg in0, in1, out;
};
// One geometry's three passes, indexed by ConvPass.
struct Plan {
  PassPlan pass[3];
};

Plan make_plan(const ConvGeometry& g) {
  const memory::dims src{g.n, g.c_in, g.h_in, g.w_in}, wei{g.c_out, g.c_in, g.kh, g.kw},
      dst{g.n, g.c_out, g.h_out, g.w_out}, strides{g.stride, g.stride}, pad{g.pad, g.pad};
  // The padding on the far side that makes the output size the engine's (floor division).
  const memory::dims pad_r{(g.h_out - 1) * g.stride + g.kh - g.h_in - g.pad,
                           (g.w_out - 1) * g.stride + g.kw - g.w_in - g.pad};
  const auto f32 = memory::data_type::f32;
  const memory::desc s_any(src, f32, Tag::any), w_any(wei, f32, Tag::any), d_any(dst, f32, Tag::any);
  const memory::desc act_in(src, f32, Tag::nchw), act_out(dst, f32, Tag::nchw), filt(wei, f32, Tag::oihw);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  auto& eng = cpu_engine();
  const auto algo = dnnl::algorithm::convolution_direct;
  const dnnl::convolution_forward::primitive_desc fwd(
      {dnnl::prop_kind::forward_training, algo, s_any, w_any, d_any, strides, pad, pad_r}, attr, eng);
  const dnnl::convolution_backward_data::primitive_desc data({algo, s_any, w_any, d_any, strides, pad, pad_r}, attr,
                                                             eng, fwd);
  const dnnl::convolution_backward_weights::primitive_desc filter({algo, s_any, w_any, d_any, strides, pad, pad_r},
                                                                  attr, eng, fwd);
  Plan p;
  p.pass[int(ConvPass::forward)] = {dnnl::convolution_forward(fwd), fwd.scratchpad_desc(),
                                    {DNNL_ARG_SRC, act_in, fwd.src_desc()},
                                    {DNNL_ARG_WEIGHTS, filt, fwd.weights_desc()},
                                    {DNNL_ARG_DST, act_out, fwd.dst_desc()}};
  p.pass[int(ConvPass::backward_data)] = {dnnl::convolution_backward_data(data), data.scratchpad_desc(),
                                          {DNNL_ARG_DIFF_DST, act_out, data.diff_dst_desc()},
                                          {DNNL_ARG_WEIGHTS, filt, data.weights_desc()},
                                          {DNNL_ARG_DIFF_SRC, act_in, data.diff_src_desc()}};
  p.pass[int(ConvPass::backward_filter)] = {dnnl::convolution_backward_weights(filter), filter.scratchpad_desc(),
                                            {DNNL_ARG_SRC, act_in, filter.src_desc()},
                                            {DNNL_ARG_DIFF_DST, act_out, filter.diff_dst_desc()},
                                            {DNNL_ARG_DIFF_WEIGHTS, filt, filter.diff_weights_desc()}};
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

// The plan of a pass that conv_kernel() gave to oneDNN.
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

bool onednn_conv_available(const ConvGeometry& g) { return plan_for(g) != nullptr; }

namespace {

// Runs one pass on the engine's buffers: out = pass(in0, in1).
void execute(const ConvGeometry& g, ConvPass pass, const float* in0, const float* in1, float* out) {
  std::shared_ptr<const Plan> hold;
  const PassPlan& p = plan_of(g, hold).pass[int(pass)];
  Call c;
  c.input(p.in0.id, p.in0.user, p.in0.wanted, in0);
  c.input(p.in1.id, p.in1.user, p.in1.wanted, in1);
  c.output(p.out.id, p.out.user, p.out.wanted, out);
  c.run(p.prim, p.scratchpad);
}

}  // namespace

#else  // no oneDNN in this build: onednn_conv_available() is false, so nothing runs here

bool onednn_conv_available(const ConvGeometry&) { return false; }

namespace {
[[noreturn]] void execute(const ConvGeometry&, ConvPass, const float*, const float*, float*) {
  throw std::logic_error("onednn_conv: this build has no oneDNN");
}
}  // namespace

#endif

void onednn_conv_forward(const ConvGeometry& g, const float* x, const float* w, float* y) {
  execute(g, ConvPass::forward, x, w, y);
}
void onednn_conv_backward_data(const ConvGeometry& g, const float* gy, const float* w, float* gx) {
  execute(g, ConvPass::backward_data, gy, w, gx);
}
void onednn_conv_backward_filter(const ConvGeometry& g, const float* x, const float* gy, float* gw) {
  execute(g, ConvPass::backward_filter, x, gy, gw);
}

}  // namespace imx::cpu
