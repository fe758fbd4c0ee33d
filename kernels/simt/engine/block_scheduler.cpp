#include "kernels/simt/engine/block_scheduler.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "kernels/simt/emu/error.h"
#include "kernels/simt/engine/warp_resolve.h"

namespace imx::simt::detail {

namespace {

// Unwinds a GPU thread's stack when its block is aborted. Deliberately not a std::exception,
// so that kernel code catching std::exception does not swallow it.
struct FiberCancel {};

__thread BlockScheduler* tls_scheduler = nullptr;
// Counts the blocks this OS thread has started; static shared slots poisoned for an older
// block are poisoned again at their next access.
__thread std::uint64_t tls_block_serial = 0;

std::string index_string(unsigned x, unsigned y, unsigned z) {
  char text[48];
  std::snprintf(text, sizeof text, "(%u,%u,%u)", x, y, z);
  return text;
}
std::string index_string(const uint3& v) { return index_string(v.x, v.y, v.z); }
std::string index_string(const dim3& v) { return index_string(v.x, v.y, v.z); }

std::string mask_string(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

std::string site_string(const CallSite& site) {
  return std::string(site.operation) + "() at " + site.file + ":" + std::to_string(site.line);
}

bool has_lane(unsigned mask, unsigned lane) { return ((mask >> lane) & 1u) != 0; }

GpuThread& current_gpu_thread(const char* what) {
  if (tls_thread == nullptr || tls_scheduler == nullptr) used_outside_kernel(what);
  // tls_thread always points at the ThreadIdentity base of a GpuThread of this scheduler.
  return *static_cast<GpuThread*>(const_cast<ThreadIdentity*>(tls_thread));
}

// The call path of a barrier: the return address of the barrier call itself (`pc`, which
// tells apart the inlined copies of a helper) and those of every frame from the barrier's
// caller (`frame`) up to the kernel's entry (`entry`), through the frame-pointer chain
// (kernel code is built with -fno-omit-frame-pointer). Frames outside (frame, entry), or a
// chain that does not climb, end the walk, so a bad chain can only shorten it.
std::uint64_t call_path(const void* pc, const void* frame, const void* entry) {
  constexpr int kMaxFrames = 32;
  constexpr std::uintptr_t kMaxFrameBytes = 1u << 20;
  const auto mix = [](std::uint64_t h, const void* v) {
    h ^= reinterpret_cast<std::uintptr_t>(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
  };
  std::uint64_t h = mix(0, pc);
  const auto limit = reinterpret_cast<std::uintptr_t>(entry);
  auto fp = reinterpret_cast<std::uintptr_t>(frame);
  for (int depth = 0; depth < kMaxFrames && entry != nullptr && fp != 0 && fp < limit; ++depth) {
    const void* const* slots = reinterpret_cast<const void* const*>(fp);
    h = mix(h, slots[1]);  // the return address into this frame's caller
    const auto next = reinterpret_cast<std::uintptr_t>(slots[0]);
    if (next <= fp || next - fp > kMaxFrameBytes) break;
    fp = next;
  }
  return h;
}

CallSite site_of(const char* operation, const std::source_location& where, const void* pc,
                 const void* frame, const GpuThread& self) {
  CallSite site = make_site(operation, where);
  site.path = call_path(pc, frame, self.entry_frame);
  return site;
}

}  // namespace

bool same_site(const CallSite& a, const CallSite& b) {
  return a.line == b.line && a.column == b.column && a.operation == b.operation &&
         (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

bool same_call(const CallSite& a, const CallSite& b) { return a.path == b.path && same_site(a, b); }

void mark_kernel_entry_frame(const void* frame) {
  current_gpu_thread("the kernel entry").entry_frame = frame;
}

void* static_shared_memory(StaticSharedSlot& slot, void* bytes, std::size_t size) {
  if (tls_thread == nullptr || tls_scheduler == nullptr) used_outside_kernel("IMX_SHARED");
  if (slot.block_serial != tls_block_serial) {
    // Not a write of the GPU thread that happens to touch the slot first: the block's
    // threads all start after it (ThreadSanitizer would see a race with their first writes).
    san::tsan_ignore_begin();
    std::memset(bytes, 0xFF, size);
    san::tsan_ignore_end();
    slot.block_serial = tls_block_serial;
  }
  return bytes;
}

CallSite make_site(const char* operation, const std::source_location& where) {
  return CallSite{operation, where.file_name(), where.function_name(), where.line(), where.column()};
}

TsanWarpGroup::~TsanWarpGroup() {
  for (TsanToken* token : tokens) {
    san::tsan_acquire(token);  // orders the free after the arrival that allocated it
    delete token;
  }
}

// ---- device-side entry points ------------------------------------------------------------

int block_barrier(BlockOp op, int predicate, const std::source_location& where, const void* frame) {
  GpuThread& self = current_gpu_thread(block_op_name(op));
  const CallSite site = site_of(block_op_name(op), where, __builtin_return_address(0), frame, self);
  return tls_scheduler->block_barrier(self, op, predicate, site);
}

std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int param, int width,
                              const std::source_location& where, const void* frame) {
  GpuThread& self = current_gpu_thread(warp_op_name(op));
  const CallSite site = site_of(warp_op_name(op), where, __builtin_return_address(0), frame, self);
  return tls_scheduler->warp_collective(self, op, mask, value, param, width, site);
}

int BlockScheduler::block_barrier(GpuThread& self, BlockOp op, int predicate, const CallSite& site) {
  if (self.cancel) throw FiberCancel{};
  self.wait = Wait::Block;
  self.block_op = op;
  self.value = predicate != 0;
  self.site = site;
  self.barrier_epoch = block_epoch_;
  san::tsan_release(&block_tokens_[self.barrier_epoch & 1]);
  suspend(self);
  san::tsan_acquire(&block_tokens_[self.barrier_epoch & 1]);
  return static_cast<int>(self.result);
}

std::uint64_t BlockScheduler::warp_collective(GpuThread& self, WarpOp op, unsigned mask, std::uint64_t value,
                                              int param, int width, const CallSite& site) {
  if (self.cancel) throw FiberCancel{};
  self.wait = Wait::Warp;
  self.warp_op = op;
  self.mask = mask;
  self.value = value;
  self.param = param;
  self.width = width;
  self.site = site;
  if constexpr (san::kTsan) {
    self.tsan_arrival = new TsanToken;
    san::tsan_release(self.tsan_arrival);
  }
  suspend(self);
  if constexpr (san::kTsan) {
    for (TsanToken* token : self.tsan_group->tokens) san::tsan_acquire(token);
    self.tsan_group = nullptr;
  }
  return self.result;
}

void BlockScheduler::suspend(GpuThread& self) {
  self.fiber.yield();
  if (self.cancel) throw FiberCancel{};
}

// ---- scheduler side ---------------------------------------------------------------------

void BlockScheduler::run_block(const BlockRun& run) {
  prepare(run);
  // On every exit, a failed block included: the host reads what the block wrote (and reuses
  // the stack memory the threads read their parameters from).
  struct Finish {
    BlockScheduler& scheduler;
    ~Finish() {
      san::tsan_acquire(&scheduler.end_token_);
      tls_thread = nullptr;
      tls_block = nullptr;
      tls_dynamic_shared = nullptr;
      tls_scheduler = nullptr;
    }
  } finish{*this};
  schedule_loop();
}

void BlockScheduler::prepare(const BlockRun& run) {
  // The previous block's threads happen before this block's scheduler work, which happens
  // before this block's threads (ThreadSanitizer builds; no-ops otherwise).
  san::tsan_acquire(&end_token_);
  tsan_groups_.clear();

  run_ = &run;
  const LaunchConfig& config = *run.config;
  identity_ = BlockIdentity{run.block_idx, config.block, config.grid};
  thread_count_ = config.block.x * config.block.y * config.block.z;
  if (threads_.size() < thread_count_) threads_.resize(thread_count_);  // no fiber runs now
  const unsigned plane = config.block.x * config.block.y;
  for (unsigned i = 0; i < thread_count_; ++i) {
    GpuThread& thread = threads_[i];
    thread.thread_idx = uint3{i % config.block.x, (i / config.block.x) % config.block.y, i / plane};
    thread.linear = i;
    thread.warp = i / 32;
    thread.lane = i % 32;
    thread.wait = Wait::NotStarted;
    thread.cancel = false;
    thread.result = 0;
    thread.error = nullptr;
    thread.entry_frame = nullptr;
    if (thread.tsan_arrival != nullptr) {  // left by an aborted block
      san::tsan_acquire(thread.tsan_arrival);
      delete thread.tsan_arrival;
      thread.tsan_arrival = nullptr;
    }
    thread.tsan_group = nullptr;
  }
  exited_ = 0;
  first_exited_ = -1;
  block_arrived_ = 0;
  warp_waiters_ = 0;
  block_epoch_ = 0;
  ready_.reset(run.schedule.order, run.seed);
  released_.clear();
  for (unsigned i = 0; i < thread_count_; ++i) released_.push_back(i);
  push_released(released_);

  if (run.dynamic_shared != nullptr) std::memset(run.dynamic_shared, 0xFF, config.dynamic_shared_bytes);
  ++tls_block_serial;  // static shared memory: poisoned at the block's first access
  context_.tsan_fiber = san::tsan_current_fiber();
  san::tsan_release(&start_token_);

  tls_block = &identity_;
  tls_dynamic_shared = run.dynamic_shared;
  tls_scheduler = this;
}

void BlockScheduler::push_released(std::vector<std::uint32_t>& ids) {
  if (ready_.descending()) {
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) ready_.push(*it);
  } else {
    for (std::uint32_t id : ids) ready_.push(id);
  }
}

void BlockScheduler::schedule_loop() {
  while (const std::optional<std::uint32_t> next = ready_.pop()) {
    GpuThread& thread = threads_[*next];
    resume(thread);
    if (thread.error) {
      const std::exception_ptr error = thread.error;
      cancel_running_threads();
      std::rethrow_exception(error);
    }
    switch (thread.wait) {
      case Wait::Done: on_exit(thread); break;
      case Wait::Block: on_block_arrival(thread); break;
      case Wait::Warp: on_warp_arrival(thread); break;
      case Wait::NotStarted:
      case Wait::Runnable: fail("internal error: a thread was suspended outside a barrier");
    }
  }
  if (exited_ != thread_count_) fail(diagnose_deadlock());
}

void BlockScheduler::resume(GpuThread& thread) {
  tls_thread = &thread;
  ++resumes_;
  if (thread.wait == Wait::NotStarted) {
    thread.wait = Wait::Runnable;
    const char* tsan_name = nullptr;
    if constexpr (san::kTsan) {
      tsan_name_ = "GPU thread " + index_string(thread.thread_idx) + " of block " + index_string(identity_.block_idx);
      tsan_name = tsan_name_.c_str();
    }
    thread.fiber.start(stacks_.get(thread.linear, run_->stack_bytes), context_, tsan_name,
                       [this, &thread] { thread_main(thread); });
  } else {
    thread.fiber.resume();
  }
  tls_thread = nullptr;
}

void BlockScheduler::thread_main(GpuThread& thread) {
  san::tsan_acquire(&start_token_);
  try {
    (*run_->body)();
  } catch (const FiberCancel&) {
  } catch (...) {
    thread.error = std::current_exception();
  }
  san::tsan_release(&end_token_);
  thread.wait = Wait::Done;
}

template <class What>
void BlockScheduler::check_warp_waiters_on(const GpuThread& thread, const What& what) {
  if (warp_waiters_ == 0) return;  // the common case: no warp collective pending in the block
  const unsigned lanes = lanes_in_warp(thread.warp);
  for (unsigned lane = 0; lane < lanes; ++lane) {
    const GpuThread& other = *lane_thread(thread.warp, lane);
    if (&other == &thread || other.wait != Wait::Warp || !has_lane(other.mask, thread.lane)) continue;
    fail(describe_thread(other) + " waits in " + site_string(other.site) + " with mask " + mask_string(other.mask) +
         ", which includes lane " + std::to_string(thread.lane) + ", but that lane " + what());
  }
}

void BlockScheduler::on_exit(GpuThread& thread) {
  ++exited_;
  if (first_exited_ < 0) first_exited_ = static_cast<int>(thread.linear);
  if (block_arrived_ > 0) {
    fail(describe_thread(thread) + " exited while " + std::to_string(block_arrived_) + " thread(s) wait at " +
         site_string(block_site_) +
         ": every thread of a block must reach each __syncthreads (no return before a block barrier)");
  }
  check_warp_waiters_on(thread, [] { return std::string("has exited"); });
}

void BlockScheduler::on_block_arrival(GpuThread& thread) {
  if (exited_ > 0) {
    fail(describe_thread(thread) + " waits at " + site_string(thread.site) + ", but " +
         describe_thread(threads_[first_exited_]) + " has already exited (" + std::to_string(exited_) +
         " exited): every thread of a block must reach each __syncthreads (no return before a block barrier)");
  }
  if (block_arrived_ == 0) {
    block_site_ = thread.site;
  } else if (!same_site(block_site_, thread.site)) {
    fail("threads of one block wait at different barriers: " + describe_thread(thread) + " at " +
         site_string(thread.site) + ", " + std::to_string(block_arrived_) + " other thread(s) at " +
         site_string(block_site_) + " (a block barrier inside a branch that not all threads take?)");
  } else if (!same_call(block_site_, thread.site)) {
    fail("threads of one block wait at different calls of the same barrier: " + describe_thread(thread) +
         " and " + std::to_string(block_arrived_) + " other thread(s) at " + site_string(block_site_) +
         ", reached through different calls (a helper holding a barrier called from two places, or under a "
         "branch that not all threads take?)");
  }
  check_warp_waiters_on(thread, [&thread] { return "waits at " + site_string(thread.site); });
  if (++block_arrived_ == thread_count_) complete_block_barrier();
}

void BlockScheduler::complete_block_barrier() {
  const BlockOp op = threads_[0].block_op;
  unsigned count = 0;
  for (unsigned i = 0; i < thread_count_; ++i) count += threads_[i].value != 0;
  std::uint64_t result = 0;
  switch (op) {
    case BlockOp::Sync: result = 0; break;
    case BlockOp::Count: result = count; break;
    case BlockOp::And: result = count == thread_count_; break;
    case BlockOp::Or: result = count != 0; break;
  }
  released_.clear();
  for (unsigned i = 0; i < thread_count_; ++i) {
    threads_[i].result = result;
    threads_[i].wait = Wait::Runnable;
    released_.push_back(i);
  }
  block_arrived_ = 0;
  ++block_epoch_;
  push_released(released_);
}

void BlockScheduler::on_warp_arrival(GpuThread& thread) {
  const unsigned lanes = lanes_in_warp(thread.warp);
  const unsigned existing = lanes == 32 ? ~0u : (1u << lanes) - 1u;
  // Built only when a check fails: this runs at every arrival.
  const auto call = [&] {
    return describe_thread(thread) + " calls " + site_string(thread.site) + " with mask " + mask_string(thread.mask);
  };
  if (!has_lane(thread.mask, thread.lane)) {
    fail(call() + ", which does not include its own lane " + std::to_string(thread.lane));
  }
  if ((thread.mask & ~existing) != 0) {
    fail(call() + ", which names lanes that do not exist: the block has " + std::to_string(thread_count_) +
         " threads, so warp " + std::to_string(thread.warp) + " has only " + std::to_string(lanes) +
         " lane(s) (a partial last warp needs a partial mask)");
  }
  if (is_shuffle(thread.warp_op) && !is_valid_shuffle_width(thread.width)) {
    fail(call() + " and width " + std::to_string(thread.width) + ", which is not a power of two in [1, 32]");
  }
  bool complete = true;
  for (unsigned lane = 0; lane < lanes; ++lane) {
    if (lane == thread.lane) continue;
    const GpuThread& other = *lane_thread(thread.warp, lane);
    const bool other_named = has_lane(thread.mask, lane);
    const bool other_waits_for_this =
        other.wait == Wait::Warp && has_lane(other.mask, thread.lane);
    if (!other_named) {
      // Lanes of one warp at the same collective must agree on the mask.
      if (other_waits_for_this && same_call(other.site, thread.site)) {
        fail(call() + ", but lane " + std::to_string(lane) + " called it with mask " + mask_string(other.mask) +
             ": lanes of a warp must pass the same mask to a collective");
      }
      continue;
    }
    switch (other.wait) {
      case Wait::Done:
        fail(call() + ", but lane " + std::to_string(lane) + " in that mask has exited");
      case Wait::Block:
        fail(call() + ", but lane " + std::to_string(lane) + " in that mask waits at " + site_string(other.site));
      case Wait::Warp:
        if (same_call(other.site, thread.site) && other.mask == thread.mask) break;
        if (other_waits_for_this) {
          const bool another_call = same_site(other.site, thread.site) && other.mask == thread.mask;
          fail(call() + ", but lane " + std::to_string(lane) + " in that mask waits in " + site_string(other.site) +
               " with mask " + mask_string(other.mask) +
               (another_call ? " reached through a different call (a helper called from two places?)" : "") +
               ": lanes of a warp must meet at the same collective with the same mask");
        }
        complete = false;
        break;
      case Wait::NotStarted:
      case Wait::Runnable:
        complete = false;
        break;
    }
  }
  ++warp_waiters_;
  if (complete) complete_warp_collective(thread);
}

void BlockScheduler::complete_warp_collective(const GpuThread& arriving) {
  const unsigned mask = arriving.mask;
  std::array<LaneArgs, 32> args{};
  for (unsigned lane = 0; lane < 32; ++lane) {
    if (!has_lane(mask, lane)) continue;
    const GpuThread& member = *lane_thread(arriving.warp, lane);
    args[lane] = LaneArgs{member.value, member.param, member.width};
  }
  const std::array<std::uint64_t, 32> results = resolve_warp_collective(arriving.warp_op, mask, args);
  TsanWarpGroup* group = nullptr;
  if constexpr (san::kTsan) group = tsan_groups_.emplace_back(std::make_unique<TsanWarpGroup>()).get();
  released_.clear();
  for (unsigned lane = 0; lane < 32; ++lane) {
    if (!has_lane(mask, lane)) continue;
    GpuThread& member = *lane_thread(arriving.warp, lane);
    member.result = results[lane];
    member.wait = Wait::Runnable;
    --warp_waiters_;
    if constexpr (san::kTsan) {
      group->tokens.push_back(member.tsan_arrival);
      member.tsan_arrival = nullptr;
      member.tsan_group = group;
    }
    released_.push_back(member.linear);
  }
  push_released(released_);
}

GpuThread* BlockScheduler::lane_thread(unsigned warp, unsigned lane) { return &threads_[warp * 32 + lane]; }
const GpuThread* BlockScheduler::lane_thread(unsigned warp, unsigned lane) const { return &threads_[warp * 32 + lane]; }

unsigned BlockScheduler::lanes_in_warp(unsigned warp) const {
  const unsigned first = warp * 32;
  return thread_count_ - first < 32 ? thread_count_ - first : 32;
}

// ---- failure ----------------------------------------------------------------------------

void BlockScheduler::fail(const std::string& headline) {
  const std::string message = describe_block() + headline + "\n" + describe_states();
  cancel_running_threads();
  throw SimtError(message);
}

void BlockScheduler::cancel_running_threads() {
  for (unsigned i = 0; i < thread_count_; ++i) {
    GpuThread& thread = threads_[i];
    for (int attempt = 0; thread.fiber.running(); ++attempt) {
      if (attempt == 4) {
        std::fprintf(stderr, "SIMT emulation: %s does not unwind after its block was aborted (a barrier in a "
                             "destructor?)\n", describe_thread(thread).c_str());
        std::terminate();
      }
      thread.cancel = true;
      resume(thread);
    }
  }
}

std::string BlockScheduler::describe_block() const {
  const LaunchConfig& config = *run_->config;
  return "SIMT emulation: kernel '" + std::string(config.kernel_name) + "' (launched at " + config.where.file_name() +
         ":" + std::to_string(config.where.line()) + "), block " + index_string(identity_.block_idx) + " of grid " +
         index_string(config.grid) + ", blockDim " + index_string(config.block) + ", schedule " +
         run_->schedule.to_string() + ":\n  ";
}

std::string BlockScheduler::describe_thread(const GpuThread& thread) const {
  return "thread " + index_string(thread.thread_idx) + " [warp " + std::to_string(thread.warp) + " lane " +
         std::to_string(thread.lane) + "]";
}

std::string BlockScheduler::describe_wait(const GpuThread& thread) const {
  switch (thread.wait) {
    case Wait::NotStarted: return "has not started";
    case Wait::Runnable: return "is runnable";
    case Wait::Done: return "has exited";
    case Wait::Block: return "waits at " + site_string(thread.site);
    case Wait::Warp: return "waits in " + site_string(thread.site) + " with mask " + mask_string(thread.mask);
  }
  return "is in an unknown state";
}

// One line per distinct state (where, with which mask), with a count and the first thread.
std::string BlockScheduler::describe_states() const {
  struct Group {
    const GpuThread* first;
    unsigned count;
  };
  std::vector<Group> groups;
  for (unsigned i = 0; i < thread_count_; ++i) {
    const GpuThread& thread = threads_[i];
    bool found = false;
    for (Group& group : groups) {
      const GpuThread& g = *group.first;
      const bool same = g.wait == thread.wait &&
                        (thread.wait != Wait::Block || same_site(g.site, thread.site)) &&
                        (thread.wait != Wait::Warp || (same_site(g.site, thread.site) && g.mask == thread.mask));
      if (same) {
        ++group.count;
        found = true;
        break;
      }
    }
    if (!found) groups.push_back(Group{&thread, 1});
  }
  std::string text = "  thread states:";
  constexpr std::size_t kMaxLines = 8;
  for (std::size_t i = 0; i < groups.size() && i < kMaxLines; ++i) {
    text += "\n    " + std::to_string(groups[i].count) + " x (first: " + describe_thread(*groups[i].first) +
            ") " + describe_wait(*groups[i].first);
  }
  if (groups.size() > kMaxLines) text += "\n    ... and " + std::to_string(groups.size() - kMaxLines) + " more";
  return text;
}

std::string BlockScheduler::diagnose_deadlock() const {
  for (unsigned i = 0; i < thread_count_; ++i) {
    const GpuThread& thread = threads_[i];
    if (thread.wait != Wait::Warp) continue;
    for (unsigned lane = 0; lane < 32; ++lane) {
      if (!has_lane(thread.mask, lane) || lane == thread.lane) continue;
      const GpuThread& other = *lane_thread(thread.warp, lane);
      if (other.wait == Wait::Warp && same_call(other.site, thread.site) && other.mask == thread.mask) continue;
      return "deadlock: " + describe_thread(thread) + " waits in " + site_string(thread.site) + " with mask " +
             mask_string(thread.mask) + " for lane " + std::to_string(lane) + ", which " + describe_wait(other);
    }
  }
  return "deadlock: no thread of the block can proceed";
}

}  // namespace imx::simt::detail
