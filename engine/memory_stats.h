// Allocator statistics of a backend, for benchmarks and tools: what a training step holds at
// its peak, what the cache keeps for reuse, and how often memory is requested.
#pragma once
#include <cstddef>
#include <cstdint>

namespace imx {

struct MemoryStats {
  std::size_t in_use_bytes = 0;    // held by live tensors (block sizes, after rounding)
  std::size_t peak_bytes = 0;      // the most in_use_bytes reached since the last reset_peak
  std::size_t cached_bytes = 0;    // freed blocks kept for reuse
  int64_t allocations = 0;         // allocate() calls since the last reset_peak
  int64_t system_allocations = 0;  // of those, the ones the cache could not serve
};

}  // namespace imx
