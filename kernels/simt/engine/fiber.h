// Fiber stacks and the annotated context switch between a block's scheduler and the fibers
// that run its GPU threads.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include <boost/context/fiber.hpp>

#include "kernels/simt/engine/sanitizer_hooks.h"

namespace imx::simt::detail {

// An mmap'd stack with an inaccessible guard page below it, so that a kernel overflowing its
// fiber stack faults at once instead of writing into a neighbouring fiber's stack.
class FiberStack {
 public:
  explicit FiberStack(std::size_t usable_bytes);
  ~FiberStack();
  FiberStack(const FiberStack&) = delete;
  FiberStack& operator=(const FiberStack&) = delete;

  void* bottom() const { return bottom_; }
  std::size_t size() const { return usable_bytes_; }
  boost::context::stack_context context() const;

 private:
  void* mapping_ = nullptr;
  std::size_t mapping_bytes_ = 0;
  void* bottom_ = nullptr;
  std::size_t usable_bytes_ = 0;
  void* top_ = nullptr;
};

// Stacks are kept for the next block and launch: creating a fiber on a warm stack costs a
// few nanoseconds, mapping a new one microseconds.
class StackPool {
 public:
  FiberStack& get(std::size_t index, std::size_t usable_bytes);

 private:
  std::vector<std::unique_ptr<FiberStack>> stacks_;
  std::size_t usable_bytes_ = 0;
};

// The OS thread's own context, from which the fibers of a block are resumed.
struct SchedulerContext {
  void* tsan_fiber = nullptr;
  const void* asan_stack_bottom = nullptr;  // learnt at the first switch into a fiber
  std::size_t asan_stack_size = 0;
};

// One GPU thread's fiber. start/resume are called by the scheduler, yield by the fiber.
class ThreadFiber {
 public:
  ThreadFiber() = default;
  // Moves only while not running (the scheduler resizes its thread table between blocks).
  ThreadFiber(ThreadFiber&& other) noexcept;
  ThreadFiber& operator=(ThreadFiber&& other) noexcept;
  ThreadFiber(const ThreadFiber&) = delete;
  ThreadFiber& operator=(const ThreadFiber&) = delete;
  ~ThreadFiber();

  // Creates the fiber on `stack` and runs `entry` on it until it first yields or returns.
  template <class Entry>
  void start(FiberStack& stack, SchedulerContext& scheduler, const char* tsan_name, Entry entry);
  void resume();
  void yield();
  bool running() const { return started_ && !finished_; }

 private:
  boost::context::fiber continuation_;  // the suspended fiber, held by the scheduler
  boost::context::fiber scheduler_;     // the suspended scheduler, held by the fiber
  SchedulerContext* context_ = nullptr;
  const void* stack_bottom_ = nullptr;
  std::size_t stack_size_ = 0;
  void* asan_fake_stack_ = nullptr;
  // Kept from block to block: creating a ThreadSanitizer fiber costs far more than a block
  // (it maps a thread state). Reuse adds no false ordering, because consecutive blocks on
  // one worker are ordered through the scheduler anyway.
  void* tsan_fiber_ = nullptr;
  bool started_ = false;
  bool finished_ = false;
};

namespace fiber_detail {
// A stack the fiber borrows from the pool: boost's "deallocation" must leave it alone.
struct BorrowedStack {
  boost::context::stack_context stack;
  boost::context::stack_context allocate() { return stack; }
  void deallocate(boost::context::stack_context&) noexcept {}
};
}  // namespace fiber_detail

template <class Entry>
void ThreadFiber::start(FiberStack& stack, SchedulerContext& scheduler, const char* tsan_name, Entry entry) {
  context_ = &scheduler;
  stack_bottom_ = stack.bottom();
  stack_size_ = stack.size();
  asan_fake_stack_ = nullptr;
  started_ = true;
  finished_ = false;
  san::asan_unpoison(stack.bottom(), stack.size());
  if constexpr (san::kTsan) {
    if (tsan_fiber_ == nullptr) tsan_fiber_ = san::tsan_create_fiber();
    san::tsan_set_fiber_name(tsan_fiber_, tsan_name);
  }
  // `entry` must not throw: the thread's entry function catches everything.
  continuation_ = boost::context::fiber(
      std::allocator_arg, fiber_detail::BorrowedStack{stack.context()},
      [this, entry](boost::context::fiber&& scheduler_side) mutable {
        scheduler_ = std::move(scheduler_side);
        san::asan_finish_switch(nullptr, &context_->asan_stack_bottom, &context_->asan_stack_size);
        entry();
        finished_ = true;
        san::asan_start_switch(nullptr, context_->asan_stack_bottom, context_->asan_stack_size);
        san::tsan_switch_to(context_->tsan_fiber);
        return std::move(scheduler_);
      });
  resume();
}

}  // namespace imx::simt::detail
