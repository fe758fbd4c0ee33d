// Host-side settings of the emulation: thread order, fiber stack size, worker threads.
// Each setting starts from an environment variable (read once, at first use) and can be
// overridden from code; the setters are meant for tests and are not thread-safe against a
// launch running at the same time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace imx::simt {

// The order in which the scheduler runs the threads of a block between two barriers.
//   in-order : thread 0, 1, 2, ... (linear id); the default
//   reverse  : highest linear id first
//   random   : a seeded random pick among the runnable threads at every step, so that code
//              which happens to work in one order (a missing barrier after a thread-0
//              broadcast) fails in another. The same seed gives the same order.
struct Schedule {
  enum class Order { InOrder, Reverse, Random };
  Order order = Order::InOrder;
  std::uint64_t seed = 0;

  // Accepts "inorder" (or "in-order"), "reverse", "random:SEED"; throws std::invalid_argument.
  static Schedule parse(std::string_view text);
  std::string to_string() const;
  friend bool operator==(const Schedule&, const Schedule&) = default;
};

// Environment: IMX_SIMT_SCHEDULE=inorder|reverse|random:SEED
void set_schedule(const Schedule& schedule);
Schedule schedule();

// The schedules a kernel test should pass under: in-order, reverse and three random seeds.
const std::vector<Schedule>& standard_schedules();

// Sets a schedule for the lifetime of the object, then restores the previous one.
class ScopedSchedule {
 public:
  explicit ScopedSchedule(const Schedule& schedule);
  ~ScopedSchedule();
  ScopedSchedule(const ScopedSchedule&) = delete;
  ScopedSchedule& operator=(const ScopedSchedule&) = delete;

 private:
  Schedule previous_;
};

// Usable stack of every GPU-thread fiber. Environment: IMX_SIMT_STACK_KB. Default 64 KiB
// (256 KiB in the AddressSanitizer build, whose frames are larger). Each stack has a guard
// page, so an overflow faults instead of corrupting a neighbour.
void set_stack_size(std::size_t bytes);
std::size_t stack_size();

// OS threads that run the blocks of one launch (each block stays on one thread).
// Environment: IMX_SIMT_WORKERS. Default 1. Blocks are dealt out round-robin, so the
// assignment is deterministic.
void set_workers(unsigned count);
unsigned workers();

// Counters since the start of the process (or the last reset), for benchmarks.
struct Stats {
  std::uint64_t launches = 0;
  std::uint64_t blocks = 0;
  std::uint64_t threads = 0;
  std::uint64_t context_switches = 0;
};
Stats stats();
void reset_stats();

}  // namespace imx::simt
