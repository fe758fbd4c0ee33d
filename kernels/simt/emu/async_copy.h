// cp.async for the emulation, under the names of CUDA's pipeline primitives
// (cuda_pipeline_primitives.h): __pipeline_memcpy_async, __pipeline_commit,
// __pipeline_wait_prior. The copy is really asynchronous here: the source is read when the
// copy is issued, but the destination is written only when a wait covers its commit group, so
// a kernel that reads shared memory before the matching wait reads what was there before
// (dynamic shared memory starts as 0xFF bytes, NaN as floats) and fails its reference check.
//
// Each GPU thread has its own groups, as on the device: a thread's wait completes only the
// copies that thread issued, so the other threads still need a __syncthreads after their
// waits before they read (ThreadSanitizer sees the write at the wait, by the issuing thread).
#pragma once

// simt.h defines __noinline__ for kernel code; libstdc++ spells the attribute that way too.
#pragma push_macro("__noinline__")
#undef __noinline__
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>
#pragma pop_macro("__noinline__")

#include "kernels/simt/emu/error.h"
#include "kernels/simt/emu/launch.h"

#if defined(__SANITIZE_THREAD__)
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
extern "C" void AnnotateIgnoreWritesBegin(const char* file, int line);
extern "C" void AnnotateIgnoreWritesEnd(const char* file, int line);
#endif

namespace imx::simt::detail {

// The emulation's own bookkeeping (per-thread copy queues, per-warp scratch) lives in the
// instrumented kernel build but is ordered by the fiber scheduler, which ThreadSanitizer does not
// see: accesses inside this scope are not recorded. Only bookkeeping goes inside it; the
// kernel-visible reads of the copy sources and writes of the destinations stay outside.
struct UnseenBySanitizer {
#if defined(__SANITIZE_THREAD__)
  UnseenBySanitizer() {
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
  }
  ~UnseenBySanitizer() {
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  }
#endif
  UnseenBySanitizer(const UnseenBySanitizer&) = delete;
  UnseenBySanitizer& operator=(const UnseenBySanitizer&) = delete;
#if !defined(__SANITIZE_THREAD__)
  UnseenBySanitizer() = default;
#endif
};

struct PendingCopy {
  void* dst;
  unsigned size;
  unsigned char bytes[16];  // what the source held at issue, zero-filled past the copied part
};

// One GPU thread's copies: issued but not committed, and committed groups (oldest first).
struct AsyncCopyLane {
  const void* block = nullptr;  // the block that issued them (see async_lane)
  uint3 block_idx{};
  std::vector<PendingCopy> open;
  std::deque<std::vector<PendingCopy>> groups;
};

inline unsigned linear_thread_id() {
  const uint3& t = current_thread_idx();
  const BlockIdentity& b = current_block();
  return t.x + b.block_dim.x * (t.y + b.block_dim.y * t.z);
}

// The calling GPU thread's state. A block runs on one OS thread from start to end, so a
// per-OS-thread table indexed by the thread's linear id is the block's; copies a previous
// block left without a wait (a kernel bug on the device too) are dropped, not applied.
inline AsyncCopyLane& async_lane() {
  static thread_local std::vector<AsyncCopyLane> lanes;
  const unsigned id = linear_thread_id();
  if (lanes.size() <= id) lanes.resize(1024);  // the block-size limit: never resized again
  AsyncCopyLane& lane = lanes[id];
  const BlockIdentity& b = current_block();
  if (lane.block != &b || lane.block_idx.x != b.block_idx.x || lane.block_idx.y != b.block_idx.y ||
      lane.block_idx.z != b.block_idx.z) {
    lane.block = &b;
    lane.block_idx = b.block_idx;
    lane.open.clear();
    lane.groups.clear();
  }
  return lane;
}

[[noreturn]] inline void async_copy_misuse(const std::string& what) {
  throw SimtError("SIMT emulation: __pipeline_memcpy_async: " + what);
}

}  // namespace imx::simt::detail

namespace imx::simt::device_api {

// Copies size_and_align bytes (4, 8 or 16; both pointers aligned to it) from global memory to
// shared memory, of which the last zfill bytes are zeros instead (nothing is read there).
inline void __pipeline_memcpy_async(void* dst_shared, const void* src_global, std::size_t size_and_align,
                                    std::size_t zfill = 0) {
  using detail::async_copy_misuse;
  if (size_and_align != 4 && size_and_align != 8 && size_and_align != 16)
    async_copy_misuse("size " + std::to_string(size_and_align) + " (must be 4, 8 or 16)");
  if (zfill > size_and_align) async_copy_misuse("zfill larger than the size");
  if (reinterpret_cast<std::uintptr_t>(dst_shared) % size_and_align != 0)
    async_copy_misuse("destination not aligned to " + std::to_string(size_and_align) + " bytes");
  const std::size_t copied = size_and_align - zfill;
  if (copied > 0 && reinterpret_cast<std::uintptr_t>(src_global) % size_and_align != 0)
    async_copy_misuse("source not aligned to " + std::to_string(size_and_align) + " bytes");
  detail::PendingCopy copy{dst_shared, static_cast<unsigned>(size_and_align), {}};
  if (copied > 0) std::memcpy(copy.bytes, src_global, copied);  // ASan sees an out-of-bounds source
  const detail::UnseenBySanitizer bookkeeping;
  detail::async_lane().open.push_back(copy);
}

// Closes the current group (possibly empty), as cp.async.commit_group.
inline void __pipeline_commit() {
  const detail::UnseenBySanitizer bookkeeping;
  detail::AsyncCopyLane& lane = detail::async_lane();
  lane.groups.push_back(std::move(lane.open));
  lane.open.clear();
}

// Completes the calling thread's committed groups until at most `prior` remain in flight, as
// cp.async.wait_group: only now does shared memory change.
inline void __pipeline_wait_prior(std::size_t prior) {
  std::vector<detail::PendingCopy> done;
  {
    const detail::UnseenBySanitizer bookkeeping;
    detail::AsyncCopyLane& lane = detail::async_lane();
    while (lane.groups.size() > prior) {
      done.insert(done.end(), lane.groups.front().begin(), lane.groups.front().end());
      lane.groups.pop_front();
    }
  }
  // The writes ThreadSanitizer must see: by this thread, now.
  for (const detail::PendingCopy& c : done) std::memcpy(c.dst, c.bytes, c.size);
  const detail::UnseenBySanitizer bookkeeping;
  done = {};  // freed unseen as well
}

}  // namespace imx::simt::device_api
