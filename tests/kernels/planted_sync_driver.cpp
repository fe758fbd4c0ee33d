// Runs log_softmax_forward over long rows (the block-reduction path) once, for the
// ThreadSanitizer ctest entries: linked with the planted build of softmax.cu it must produce a
// data-race report in common.cuh; linked with the correct build it must finish silently.
//   usage: planted_sync_driver log_softmax
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels/ops/launchers.h"
#include "tests/simt/test_support.h"

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "log_softmax") != 0) {
    std::fprintf(stderr, "usage: %s log_softmax\n", argv[0]);
    return 2;
  }
  const int rows = 2, cols = 1030;
  const imx::simt_test::DeviceBuffer<float> x(imx::simt_test::random_int_floats(rows * cols, -5, 5, 1));
  imx::simt_test::DeviceBuffer<float> y(rows * cols);
  imx::emu::log_softmax_forward(x.get(), y.get(), rows, cols, nullptr);
  std::printf("planted_sync_driver: log_softmax finished without a sanitizer report\n");
  return 0;
}
