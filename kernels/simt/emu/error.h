// The exception every emulation diagnostic is reported with.
#pragma once

#include <stdexcept>
#include <string>

namespace imx::simt {

// Thrown for invalid launches and for barrier misuse found while a grid runs (a thread that
// exits while others wait, threads at different barriers, bad warp masks, deadlocks).
// The message names the kernel, the block, the threads involved and file:line of the barrier.
class SimtError : public std::runtime_error {
 public:
  explicit SimtError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace imx::simt
