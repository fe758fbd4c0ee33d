// simt_gpu_crosscheck: the tests/simt kernels on the GPU against the same kernels under the
// SIMT emulation, output by output. Exits 77 (ctest: skipped) without a CUDA device.
#include <cstdio>
#include <string>
#include <vector>

#include "tests/simt/crosscheck/crosscheck.h"

namespace {

template <class T>
bool compare(const char* name, const std::vector<T>& emulated, const std::vector<T>& gpu) {
  std::size_t mismatches = 0, first = 0;
  for (std::size_t i = 0; i < emulated.size() && i < gpu.size(); ++i) {
    if (emulated[i] != gpu[i] && mismatches++ == 0) first = i;  // integer-valued data: exact
  }
  const bool ok = mismatches == 0 && emulated.size() == gpu.size();
  std::printf("  %-20s %6zu values  %s", name, emulated.size(), ok ? "identical\n" : "MISMATCH");
  if (!ok) {
    std::printf(" (%zu differ, first at %zu: emulated %g, gpu %g)\n", mismatches, first,
                static_cast<double>(emulated[first]), static_cast<double>(gpu[first]));
  }
  return ok;
}

}  // namespace

int main() {
  using namespace imx::simt_crosscheck;
  std::string why;
  if (cuda_device_count(why) == 0) {
    std::printf("simt_gpu_crosscheck: skipped, %s\n", why.c_str());
    return 77;
  }
  const Outputs emulated = run_emulated();
  const Outputs gpu = run_cuda();
  std::printf("simt_gpu_crosscheck: emulation vs GPU\n");
  bool ok = true;
  ok &= compare("thread indices", emulated.indices, gpu.indices);
  ok &= compare("block sums static", emulated.block_sums_static, gpu.block_sums_static);
  ok &= compare("block sums dynamic", emulated.block_sums_dynamic, gpu.block_sums_dynamic);
  ok &= compare("warp shuffles", emulated.shuffles, gpu.shuffles);
  ok &= compare("warp sums", emulated.warp_sums, gpu.warp_sums);
  ok &= compare("votes", emulated.votes, gpu.votes);
  ok &= compare("atomic histogram", emulated.histogram, gpu.histogram);
  ok &= compare("atomic extrema", emulated.extrema, gpu.extrema);
  ok &= compare("tiled matmul", emulated.matmul, gpu.matmul);
  ok &= compare("broadcast", emulated.broadcast, gpu.broadcast);
  std::printf("simt_gpu_crosscheck: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
