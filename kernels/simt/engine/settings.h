// Engine-internal access to the process-wide emulation settings and counters.
#pragma once

#include <cstdint>

#include "kernels/simt/emu/config.h"

namespace imx::simt::detail {

// Index of the next launch; set_schedule restarts it at 0, so that a test which sets a
// schedule sees the same random orders whatever ran before it.
std::uint64_t next_launch_index();
void add_stats(const Stats& delta);

}  // namespace imx::simt::detail
