// The launch half of the emulation: what IMX_LAUNCH expands to, and the per-OS-thread
// identity of the running GPU thread that threadIdx/blockIdx read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/simt/emu/types.h"

namespace imx::simt {
// IMX_SHARED's declared type; T may be an array type (float[32]).
template <class T>
using SharedType = T;
}  // namespace imx::simt

namespace imx::simt::detail {

// What `threadIdx` and friends read. The scheduler points these at the running fiber's
// data before every switch; `__thread` (not thread_local) so that access is a plain TLS
// load without an initialisation guard.
struct ThreadIdentity {
  uint3 thread_idx;
};
struct BlockIdentity {
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
extern __thread const ThreadIdentity* tls_thread;
extern __thread const BlockIdentity* tls_block;
extern __thread unsigned char* tls_dynamic_shared;

// Throws SimtError: `what` (threadIdx, __syncthreads, ...) was used outside a running kernel.
[[noreturn]] void used_outside_kernel(const char* what);

inline const uint3& current_thread_idx() {
  const ThreadIdentity* thread = tls_thread;
  if (thread == nullptr) used_outside_kernel("threadIdx");
  return thread->thread_idx;
}
inline const BlockIdentity& current_block() {
  const BlockIdentity* block = tls_block;
  if (block == nullptr || tls_thread == nullptr) used_outside_kernel("blockIdx/blockDim/gridDim");
  return *block;
}
inline unsigned char* dynamic_shared_memory() {
  if (tls_thread == nullptr) used_outside_kernel("IMX_DYNAMIC_SHARED");
  return tls_dynamic_shared;
}

struct LaunchConfig {
  const char* kernel_name = "";
  const void* kernel = nullptr;  // identity only: the key of the dynamic shared memory limit
  dim3 grid;
  dim3 block;
  std::size_t dynamic_shared_bytes = 0;
  std::source_location where;
};

// A non-owning reference to the callable every GPU thread runs (no allocation per launch).
class KernelBody {
 public:
  template <class F>
  explicit KernelBody(const F& body)
      : object_(&body), call_([](const void* object) { (*static_cast<const F*>(object))(); }) {}
  void operator()() const { call_(object_); }

 private:
  const void* object_;
  void (*call_)(const void*);
};

// Records, for the running GPU thread, the frame address of the kernel body's caller.
void mark_kernel_entry_frame(const void* frame);

// Static shared memory (IMX_SHARED): each declaration is a per-OS-thread slot (a block's
// threads are fibers of one OS thread). Like dynamic shared memory it is filled with 0xFF
// (NaN as float) before the first access of every block, so a kernel that reads shared
// memory before writing it, or relies on what a previous block left there, fails here as
// it may on the device, instead of reading zeros or stale values.
struct StaticSharedSlot {
  std::uint64_t block_serial;  // the block the contents were poisoned for (0: never)
};
// The slot's memory, poisoned if this is the block's first access to it.
void* static_shared_memory(StaticSharedSlot& slot, void* bytes, std::size_t size);

template <class T>
struct StaticShared {
  static_assert(std::is_trivially_default_constructible_v<T> && std::is_trivially_destructible_v<T>,
                "IMX_SHARED: shared variables cannot have constructors or destructors (as in CUDA)");
  StaticSharedSlot slot;
  alignas(16) alignas(T) unsigned char bytes[sizeof(T)];
  T& get() { return *reinterpret_cast<T*>(static_shared_memory(slot, bytes, sizeof(T))); }
};

// Validates the configuration (throws SimtError like a failed CUDA launch would report),
// then runs every block of the grid to completion before returning.
void run_grid(const LaunchConfig& config, KernelBody body);

// The object IMX_LAUNCH(...) returns; calling it with the kernel arguments runs the grid.
// Arguments are converted to the kernel's parameter types once, as a CUDA launch copies
// them into the parameter buffer, and every GPU thread receives its own copy.
template <class... Params>
class Launch {
 public:
  Launch(void (*kernel)(Params...), LaunchConfig config) : kernel_(kernel), config_(config) {}

  template <class... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params),
                  "IMX_LAUNCH: the number of arguments does not match the kernel's parameters");
    const std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
    void (*const kernel)(Params...) = kernel_;
    const auto body = [kernel, &params] {
      // Where the kernel's own frames end on the fiber stack: barrier call paths are read
      // from the barrier up to here (block_scheduler.cpp, call_path).
      mark_kernel_entry_frame(__builtin_frame_address(0));
      std::apply(kernel, params);
    };
    run_grid(config_, KernelBody(body));
  }

 private:
  void (*kernel_)(Params...);
  LaunchConfig config_;
};

template <class... Params>
Launch<Params...> make_launch(void (*kernel)(Params...), const char* kernel_name, dim3 grid,
                              dim3 block, std::size_t dynamic_shared_bytes, Stream /*stream*/,
                              std::source_location where = std::source_location::current()) {
  LaunchConfig config;
  config.kernel_name = kernel_name;
  config.kernel = reinterpret_cast<const void*>(kernel);
  config.grid = grid;
  config.block = block;
  config.dynamic_shared_bytes = dynamic_shared_bytes;
  config.where = where;
  return Launch<Params...>(kernel, config);
}

// cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes) lands here:
// launches asking for more than 48 KiB of dynamic shared memory fail unless it was raised,
// as on the device.
void set_max_dynamic_shared_bytes(const void* kernel, std::size_t bytes);

}  // namespace imx::simt::detail
