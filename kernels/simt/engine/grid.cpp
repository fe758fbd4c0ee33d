// run_grid: validates a launch like the CUDA runtime would, then deals the blocks out to
// one or more OS threads, each running its blocks one after the other.
#include <algorithm>
#include <cstdio>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kernels/simt/emu/error.h"
#include "kernels/simt/emu/launch.h"
#include "kernels/simt/engine/block_scheduler.h"
#include "kernels/simt/engine/ready_queue.h"
#include "kernels/simt/engine/settings.h"

namespace imx::simt::detail {

__thread const ThreadIdentity* tls_thread = nullptr;
__thread const BlockIdentity* tls_block = nullptr;
__thread unsigned char* tls_dynamic_shared = nullptr;

void used_outside_kernel(const char* what) {
  throw SimtError(std::string("SIMT emulation: ") + what +
                  " used outside a running kernel (kernels run only through IMX_LAUNCH)");
}

namespace {

// Device limits of sm_90 that a launch is checked against.
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr unsigned kMaxBlockDimXY = 1024;
constexpr unsigned kMaxBlockDimZ = 64;
constexpr unsigned kMaxGridDimX = 2147483647u;
constexpr unsigned kMaxGridDimYZ = 65535;
constexpr std::size_t kDefaultDynamicSharedLimit = 48 * 1024;
constexpr std::size_t kMaxDynamicSharedOptIn = 227 * 1024;

struct DynamicSharedLimits {
  std::mutex mutex;
  std::unordered_map<const void*, std::size_t> by_kernel;
};
DynamicSharedLimits& dynamic_shared_limits() {
  static DynamicSharedLimits limits;
  return limits;
}

std::size_t dynamic_shared_limit(const void* kernel) {
  DynamicSharedLimits& limits = dynamic_shared_limits();
  std::lock_guard lock(limits.mutex);
  const auto it = limits.by_kernel.find(kernel);
  return it == limits.by_kernel.end() ? kDefaultDynamicSharedLimit : it->second;
}

std::string dims(const dim3& d) {
  char text[48];
  std::snprintf(text, sizeof text, "(%u,%u,%u)", d.x, d.y, d.z);
  return text;
}

void validate(const LaunchConfig& config) {
  const std::string where = std::string("IMX_LAUNCH of kernel '") + config.kernel_name + "' at " +
                            config.where.file_name() + ":" + std::to_string(config.where.line()) + ": ";
  const dim3& b = config.block;
  const dim3& g = config.grid;
  if (b.x == 0 || b.y == 0 || b.z == 0) throw SimtError(where + "blockDim " + dims(b) + " has a zero extent");
  if (g.x == 0 || g.y == 0 || g.z == 0) throw SimtError(where + "gridDim " + dims(g) + " has a zero extent");
  if (b.x > kMaxBlockDimXY || b.y > kMaxBlockDimXY || b.z > kMaxBlockDimZ) {
    throw SimtError(where + "blockDim " + dims(b) + " exceeds the device limits (1024, 1024, 64)");
  }
  const unsigned long long threads = static_cast<unsigned long long>(b.x) * b.y * b.z;
  if (threads > kMaxThreadsPerBlock) {
    throw SimtError(where + "blockDim " + dims(b) + " has " + std::to_string(threads) +
                    " threads; a block holds at most 1024");
  }
  if (g.x > kMaxGridDimX || g.y > kMaxGridDimYZ || g.z > kMaxGridDimYZ) {
    throw SimtError(where + "gridDim " + dims(g) + " exceeds the device limits (2^31-1, 65535, 65535)");
  }
  const std::size_t limit = dynamic_shared_limit(config.kernel);
  if (config.dynamic_shared_bytes > limit) {
    throw SimtError(where + std::to_string(config.dynamic_shared_bytes) +
                    " bytes of dynamic shared memory exceed the kernel's limit of " + std::to_string(limit) +
                    (limit == kDefaultDynamicSharedLimit
                         ? " (raise it with cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, "
                           "bytes), up to 227 KiB)"
                         : ""));
  }
}

// One per OS thread that runs blocks; its fiber stacks are reused by later launches.
struct Worker {
  BlockScheduler scheduler;
};
Worker& this_thread_worker() {
  thread_local std::unique_ptr<Worker> worker;
  if (!worker) worker = std::make_unique<Worker>();
  return *worker;
}

// Dynamic shared memory of one worker for one launch, of exactly the requested size.
class DynamicShared {
 public:
  explicit DynamicShared(std::size_t bytes)
      : memory_(bytes == 0 ? nullptr : static_cast<unsigned char*>(::operator new(bytes, std::align_val_t{16}))) {}
  ~DynamicShared() {
    if (memory_ != nullptr) ::operator delete(memory_, std::align_val_t{16});
  }
  DynamicShared(const DynamicShared&) = delete;
  DynamicShared& operator=(const DynamicShared&) = delete;
  unsigned char* get() const { return memory_; }

 private:
  unsigned char* memory_;
};

}  // namespace

void set_max_dynamic_shared_bytes(const void* kernel, std::size_t bytes) {
  if (bytes > kMaxDynamicSharedOptIn) {
    throw SimtError("cudaFuncAttributeMaxDynamicSharedMemorySize: " + std::to_string(bytes) +
                    " bytes exceed the device maximum of " + std::to_string(kMaxDynamicSharedOptIn));
  }
  DynamicSharedLimits& limits = dynamic_shared_limits();
  std::lock_guard lock(limits.mutex);
  limits.by_kernel[kernel] = std::max(bytes, kDefaultDynamicSharedLimit);
}

void run_grid(const LaunchConfig& config, KernelBody body) {
  if (tls_thread != nullptr) {
    throw SimtError(std::string("IMX_LAUNCH of kernel '") + config.kernel_name + "' at " + config.where.file_name() +
                    ":" + std::to_string(config.where.line()) +
                    " from inside a kernel: dynamic parallelism is not emulated");
  }
  validate(config);
  const Schedule schedule_now = schedule();
  const std::size_t stack_bytes = stack_size();
  const std::uint64_t launch_index = next_launch_index();
  const dim3 grid = config.grid;
  const std::uint64_t blocks = static_cast<std::uint64_t>(grid.x) * grid.y * grid.z;
  const std::uint64_t threads_per_block = static_cast<std::uint64_t>(config.block.x) * config.block.y * config.block.z;
  const unsigned worker_count = static_cast<unsigned>(std::min<std::uint64_t>(workers(), blocks));
  std::atomic<bool> failed{false};

  // Runs blocks first, first + worker_count, ... on the calling OS thread.
  const auto run_share = [&](unsigned first) {
    BlockScheduler& scheduler = this_thread_worker().scheduler;
    const DynamicShared dynamic_shared(config.dynamic_shared_bytes);
    const std::uint64_t resumes_before = scheduler.resumes();
    BlockRun run;
    run.config = &config;
    run.body = &body;
    run.schedule = schedule_now;
    run.dynamic_shared = dynamic_shared.get();
    run.stack_bytes = stack_bytes;
    std::uint64_t done = 0;
    for (std::uint64_t b = first; b < blocks && !failed.load(std::memory_order_relaxed); b += worker_count) {
      run.block_idx = uint3{static_cast<unsigned>(b % grid.x), static_cast<unsigned>((b / grid.x) % grid.y),
                            static_cast<unsigned>(b / (static_cast<std::uint64_t>(grid.x) * grid.y))};
      run.seed = mix64(schedule_now.seed ^ mix64(launch_index * 0x100000001B3ull + b));
      scheduler.run_block(run);
      ++done;
    }
    add_stats(Stats{0, done, done * threads_per_block, 2 * (scheduler.resumes() - resumes_before)});
  };

  add_stats(Stats{1, 0, 0, 0});
  if (worker_count <= 1) {
    run_share(0);
    return;
  }
  std::mutex error_mutex;
  std::exception_ptr first_error;
  const auto guarded_share = [&](unsigned first) {
    try {
      run_share(first);
    } catch (...) {
      failed = true;
      std::lock_guard lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
    }
  };
  std::vector<std::thread> helpers;
  helpers.reserve(worker_count - 1);
  for (unsigned w = 1; w < worker_count; ++w) helpers.emplace_back(guarded_share, w);
  guarded_share(0);
  for (std::thread& helper : helpers) helper.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace imx::simt::detail
