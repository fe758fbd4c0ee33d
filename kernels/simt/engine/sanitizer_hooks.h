// Sanitizer annotations for fiber switches and barriers. The engine itself is never compiled
// with -fsanitize (its bookkeeping is shared by all fibers of a block and would look racy);
// the *_tsan / *_asan builds of it only define IMX_SIMT_TSAN_ANNOTATE / IMX_SIMT_ASAN_ANNOTATE
// so that the instrumented kernel code around it is understood correctly:
//  * ThreadSanitizer sees every GPU thread as its own fiber, switched with no implied
//    ordering; barriers add release/acquire edges, so two threads of a block touching the
//    same memory with no barrier between them are reported as a data race, in any order.
//  * AddressSanitizer is told about every stack switch, so that fake stacks and exception
//    unwinding on fiber stacks do not produce false reports.
#pragma once

#include <cstddef>

#if defined(IMX_SIMT_ASAN_ANNOTATE)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(IMX_SIMT_TSAN_ANNOTATE)
#include <sanitizer/tsan_interface.h>
// Exported by the ThreadSanitizer runtime, not declared by GCC 12's tsan_interface.h.
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

namespace imx::simt::detail::san {

#if defined(IMX_SIMT_TSAN_ANNOTATE)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif
#if defined(IMX_SIMT_ASAN_ANNOTATE)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif

// ---- AddressSanitizer -------------------------------------------------------------------
inline void asan_start_switch(void** fake_stack_save, const void* bottom, std::size_t size) {
#if defined(IMX_SIMT_ASAN_ANNOTATE)
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}
inline void asan_finish_switch(void* fake_stack_save, const void** bottom_old, std::size_t* size_old) {
#if defined(IMX_SIMT_ASAN_ANNOTATE)
  __sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
#else
  (void)fake_stack_save, (void)bottom_old, (void)size_old;
#endif
}
// A reused fiber stack may carry poisoned red zones of frames that were unwound abnormally.
inline void asan_unpoison(void* memory, std::size_t size) {
#if defined(IMX_SIMT_ASAN_ANNOTATE)
  __asan_unpoison_memory_region(memory, size);
#else
  (void)memory, (void)size;
#endif
}

// ---- ThreadSanitizer --------------------------------------------------------------------
inline void* tsan_current_fiber() {
#if defined(IMX_SIMT_TSAN_ANNOTATE)
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}
inline void* tsan_create_fiber() {
#if defined(IMX_SIMT_TSAN_ANNOTATE)
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}
inline void tsan_destroy_fiber(void* fiber) {
#if defined(IMX_SIMT_TSAN_ANNOTATE)
  if (fiber != nullptr) __tsan_destroy_fiber(fiber);
#else
  (void)fiber;
#endif
}
inline void tsan_set_fiber_name(void* fiber, const char* name) {
#if defined(IMX_SIMT_TSAN_ANNOTATE)
  __tsan_set_fiber_name(fiber, name);
#else
  (void)fiber, (void)name;
#endif
}
// No implied happens-before: the order in which the scheduler happens to run threads must
// not hide a race that another order (or the GPU) would expose.
inline void tsan_switch_to(void* fiber) {
#if defined(IMX_SIMT_TSAN_ANNOTATE)
  __tsan_switch_to_fiber(fiber, __tsan_switch_to_fiber_no_sync);
#else
  (void)fiber;
#endif
}
inline void tsan_release(void* sync_object) {
#if defined(IMX_SIMT_TSAN_ANNOTATE)
  __tsan_release(sync_object);
#else
  (void)sync_object;
#endif
}
inline void tsan_acquire(void* sync_object) {
#if defined(IMX_SIMT_TSAN_ANNOTATE)
  __tsan_acquire(sync_object);
#else
  (void)sync_object;
#endif
}

// Accesses of the calling fiber in between are not recorded (memory the engine prepares for
// a whole block, such as poisoned shared memory).
inline void tsan_ignore_begin() {
#if defined(IMX_SIMT_TSAN_ANNOTATE)
  __tsan_ignore_thread_begin();
#endif
}
inline void tsan_ignore_end() {
#if defined(IMX_SIMT_TSAN_ANNOTATE)
  __tsan_ignore_thread_end();
#endif
}

}  // namespace imx::simt::detail::san
