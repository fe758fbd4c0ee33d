#include "kernels/simt/engine/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>

#include "kernels/simt/emu/error.h"

namespace imx::simt::detail {

namespace {
std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}
}  // namespace

FiberStack::FiberStack(std::size_t usable_bytes) {
  const std::size_t page = page_size();
  usable_bytes_ = (usable_bytes + page - 1) / page * page;
  mapping_bytes_ = usable_bytes_ + page;
  mapping_ = mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw SimtError("SIMT emulation: mmap of a " + std::to_string(mapping_bytes_) +
                    "-byte fiber stack failed: " + std::strerror(errno));
  }
  if (mprotect(mapping_, page, PROT_NONE) != 0) {
    const int error = errno;
    munmap(mapping_, mapping_bytes_);
    mapping_ = nullptr;
    throw SimtError(std::string("SIMT emulation: mprotect of a fiber stack guard page failed: ") +
                    std::strerror(error));
  }
  bottom_ = static_cast<unsigned char*>(mapping_) + page;
  top_ = static_cast<unsigned char*>(bottom_) + usable_bytes_;
}

FiberStack::~FiberStack() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_bytes_);
}

boost::context::stack_context FiberStack::context() const {
  boost::context::stack_context context;
  context.sp = top_;  // stacks grow down
  context.size = size();
  return context;
}

FiberStack& StackPool::get(std::size_t index, std::size_t usable_bytes) {
  if (usable_bytes != usable_bytes_) {  // the configured size changed: start over
    stacks_.clear();
    usable_bytes_ = usable_bytes;
  }
  if (index >= stacks_.size()) stacks_.resize(index + 1);
  if (!stacks_[index]) stacks_[index] = std::make_unique<FiberStack>(usable_bytes);
  return *stacks_[index];
}

ThreadFiber::ThreadFiber(ThreadFiber&& other) noexcept { *this = std::move(other); }

ThreadFiber& ThreadFiber::operator=(ThreadFiber&& other) noexcept {
  if (this != &other) {
    san::tsan_destroy_fiber(tsan_fiber_);
    continuation_ = std::move(other.continuation_);
    scheduler_ = std::move(other.scheduler_);
    context_ = other.context_;
    stack_bottom_ = other.stack_bottom_;
    stack_size_ = other.stack_size_;
    asan_fake_stack_ = other.asan_fake_stack_;
    tsan_fiber_ = std::exchange(other.tsan_fiber_, nullptr);
    started_ = other.started_;
    finished_ = other.finished_;
  }
  return *this;
}

ThreadFiber::~ThreadFiber() { san::tsan_destroy_fiber(tsan_fiber_); }

void ThreadFiber::resume() {
  void* scheduler_fake_stack = nullptr;
  san::asan_start_switch(&scheduler_fake_stack, stack_bottom_, stack_size_);
  san::tsan_switch_to(tsan_fiber_);
  continuation_ = std::move(continuation_).resume();
  san::asan_finish_switch(scheduler_fake_stack, nullptr, nullptr);
}

void ThreadFiber::yield() {
  san::asan_start_switch(&asan_fake_stack_, context_->asan_stack_bottom, context_->asan_stack_size);
  san::tsan_switch_to(context_->tsan_fiber);
  scheduler_ = std::move(scheduler_).resume();
  san::asan_finish_switch(asan_fake_stack_, &context_->asan_stack_bottom, &context_->asan_stack_size);
}

}  // namespace imx::simt::detail
