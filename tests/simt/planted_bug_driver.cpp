// Runs one planted bug (or a clean control) so that a sanitizer build can report it.
// The ctest entries (see CMakeLists.txt) expect the ThreadSanitizer / AddressSanitizer /
// UBSan report and a non-zero exit; the clean control must exit 0 without a report.
//   usage: planted_bug_driver missing_sync_matmul | missing_syncwarp | global_oob | shared_oob |
//                             dynamic_shared_oob | clean
#include <cstdio>
#include <cstring>
#include <vector>

#include "tests/simt/kernels/simt_test_kernels.cuh"
#include "tests/simt/test_support.h"

namespace kt = imx::emu::simt_test;
using imx::simt_test::DeviceBuffer;

namespace {

void matmul(kt::MatmulVariant variant) {
  const int m = 20, n = 18, k = 35;
  DeviceBuffer<float> a(imx::simt_test::random_int_floats(static_cast<std::size_t>(m) * k, -3, 3, 1));
  DeviceBuffer<float> b(imx::simt_test::random_int_floats(static_cast<std::size_t>(k) * n, -3, 3, 2));
  DeviceBuffer<float> c(static_cast<std::size_t>(m) * n);
  kt::tiled_matmul(a.get(), b.get(), c.get(), m, n, k, variant);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s missing_sync_matmul|missing_syncwarp|global_oob|shared_oob|dynamic_shared_oob|clean\n", argv[0]);
    return 2;
  }
  const char* which = argv[1];
  if (std::strcmp(which, "missing_sync_matmul") == 0) {
    matmul(kt::MatmulVariant::MissingSyncAfterLoad);
  } else if (std::strcmp(which, "missing_syncwarp") == 0) {
    DeviceBuffer<float> x(imx::simt_test::random_int_floats(32, 0, 9, 3));
    DeviceBuffer<float> out(32);
    kt::missing_syncwarp(x.get(), out.get());
  } else if (std::strcmp(which, "global_oob") == 0) {
    DeviceBuffer<float> out(100);  // exactly 100 floats: the kernel writes out[100]
    kt::write_one_past_end(out.get(), 100);
  } else if (std::strcmp(which, "shared_oob") == 0) {
    DeviceBuffer<float> out(32);
    kt::shared_one_past_end(out.get());
  } else if (std::strcmp(which, "dynamic_shared_oob") == 0) {
    DeviceBuffer<float> out(32);
    kt::dynamic_shared_one_past_end(out.get());
  } else if (std::strcmp(which, "clean") == 0) {
    matmul(kt::MatmulVariant::Correct);
  } else {
    std::fprintf(stderr, "planted_bug_driver: unknown case '%s'\n", which);
    return 2;
  }
  std::printf("planted_bug_driver: %s finished without a sanitizer report\n", which);
  return 0;
}
