// Runs one thread block: a fiber per GPU thread, switched at barriers and warp collectives,
// which are resolved here. Misuse (a thread exiting while others wait, threads at
// different barriers, bad warp masks, deadlock) stops the block with a SimtError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "kernels/simt/emu/config.h"
#include "kernels/simt/emu/device_api.h"
#include "kernels/simt/emu/launch.h"
#include "kernels/simt/engine/fiber.h"
#include "kernels/simt/engine/ready_queue.h"

namespace imx::simt::detail {

struct CallSite {
  const char* operation = "";  // "__syncthreads", "__shfl_down_sync", ...
  const char* file = "";
  const char* function = "";
  unsigned line = 0;
  unsigned column = 0;
  // Which call reached the site: a hash of the return addresses from the barrier up to the
  // kernel's entry. Threads at one barrier must agree on it (same_call).
  std::uint64_t path = 0;
};
// Same source location (file, line, column, operation).
bool same_site(const CallSite& a, const CallSite& b);
// Same location reached through the same calls: the same dynamic barrier.
bool same_call(const CallSite& a, const CallSite& b);
CallSite make_site(const char* operation, const std::source_location& where);

enum class Wait : std::uint8_t { NotStarted, Runnable, Block, Warp, Done };

// ThreadSanitizer builds only: each arrival at a warp collective releases its own heap
// token, and every member of the completed group acquires all of them. A per-instance
// object (rather than one per warp) keeps a late waker from inheriting a later arrival.
// Groups are owned by the scheduler and freed at the next block start, after it has
// acquired everything the threads did (a free is a write to ThreadSanitizer).
struct TsanToken {
  char byte = 0;
};
struct TsanWarpGroup {
  std::vector<TsanToken*> tokens;
  TsanWarpGroup() = default;
  TsanWarpGroup(const TsanWarpGroup&) = delete;
  TsanWarpGroup& operator=(const TsanWarpGroup&) = delete;
  ~TsanWarpGroup();
};

struct GpuThread : ThreadIdentity {
  unsigned linear = 0;
  unsigned warp = 0;
  unsigned lane = 0;
  Wait wait = Wait::NotStarted;
  bool cancel = false;  // set when the block is aborted: the pending barrier call unwinds
  CallSite site;        // where it waits
  BlockOp block_op = BlockOp::Sync;
  WarpOp warp_op = WarpOp::Sync;
  unsigned mask = 0;
  std::uint64_t value = 0;
  int param = 0;
  int width = 32;
  std::uint64_t result = 0;
  std::uint64_t barrier_epoch = 0;
  TsanToken* tsan_arrival = nullptr;
  const TsanWarpGroup* tsan_group = nullptr;
  const void* entry_frame = nullptr;  // mark_kernel_entry_frame: where call paths stop
  std::exception_ptr error;  // what the kernel body threw
  ThreadFiber fiber;
};

struct BlockRun {
  const LaunchConfig* config = nullptr;
  const KernelBody* body = nullptr;
  uint3 block_idx;
  Schedule schedule;
  std::uint64_t seed = 0;  // already mixed with the launch and block index
  unsigned char* dynamic_shared = nullptr;
  std::size_t stack_bytes = 0;
};

class BlockScheduler {
 public:
  BlockScheduler() = default;
  BlockScheduler(const BlockScheduler&) = delete;
  BlockScheduler& operator=(const BlockScheduler&) = delete;

  // Runs the block to completion. Throws SimtError on misuse, or rethrows what a thread threw.
  void run_block(const BlockRun& run);

  // Device side, called on the fiber of `self`.
  int block_barrier(GpuThread& self, BlockOp op, int predicate, const CallSite& site);
  std::uint64_t warp_collective(GpuThread& self, WarpOp op, unsigned mask, std::uint64_t value, int param,
                                int width, const CallSite& site);

  // Fiber resumptions so far (each is two context switches), for the statistics.
  std::uint64_t resumes() const { return resumes_; }

 private:
  void prepare(const BlockRun& run);
  void schedule_loop();
  void resume(GpuThread& thread);
  void thread_main(GpuThread& thread);
  void suspend(GpuThread& self);
  void push_released(std::vector<std::uint32_t>& ids);

  void on_exit(GpuThread& thread);
  void on_block_arrival(GpuThread& thread);
  void on_warp_arrival(GpuThread& thread);
  void complete_block_barrier();
  void complete_warp_collective(const GpuThread& arriving);
  template <class What>  // What: () -> std::string, evaluated only for the report
  void check_warp_waiters_on(const GpuThread& thread, const What& what);

  GpuThread* lane_thread(unsigned warp, unsigned lane);
  const GpuThread* lane_thread(unsigned warp, unsigned lane) const;
  unsigned lanes_in_warp(unsigned warp) const;

  [[noreturn]] void fail(const std::string& headline);
  void cancel_running_threads();
  std::string describe_block() const;
  std::string describe_thread(const GpuThread& thread) const;
  std::string describe_wait(const GpuThread& thread) const;
  std::string describe_states() const;
  std::string diagnose_deadlock() const;

  const BlockRun* run_ = nullptr;
  BlockIdentity identity_{};
  std::vector<GpuThread> threads_;
  unsigned thread_count_ = 0;
  ReadyQueue ready_;
  std::vector<std::uint32_t> released_;  // scratch
  StackPool stacks_;
  SchedulerContext context_;

  unsigned exited_ = 0;
  int first_exited_ = -1;
  unsigned block_arrived_ = 0;
  unsigned warp_waiters_ = 0;  // threads waiting at warp collectives
  CallSite block_site_;
  std::uint64_t block_epoch_ = 0;
  std::uint64_t resumes_ = 0;
  std::string tsan_name_;
  std::vector<std::unique_ptr<TsanWarpGroup>> tsan_groups_;

  // ThreadSanitizer sync objects (their addresses are what matters).
  TsanToken start_token_;      // scheduler -> threads of the next block
  TsanToken end_token_;        // threads -> scheduler (and the host after the launch)
  TsanToken block_tokens_[2];  // __syncthreads, alternating by barrier epoch
};

}  // namespace imx::simt::detail
