// Runs the fused forward (jsd) once, for the ThreadSanitizer ctest entries: linked with the
// planted build of losses/mi_cuda it must produce a data-race report in tile.cuh; linked with
// the correct build it must finish silently.
//   usage: planted_sync_driver fused
#include <cstdio>
#include <cstring>
#include <vector>

#include "losses/mi_cuda/mi_cuda.h"
#include "tests/simt/test_support.h"

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "fused") != 0) {
    std::fprintf(stderr, "usage: %s fused\n", argv[0]);
    return 2;
  }
  namespace dev = imx::mi::emu;
  using imx::simt_test::DeviceBuffer;
  const imx::mi::Problem pb{3, 5, 17, 1};
  const DeviceBuffer<float> local(imx::simt_test::random_int_floats(pb.cols() * pb.D, -2, 2, 1));
  const DeviceBuffer<float> global(imx::simt_test::random_int_floats(pb.rows() * pb.D, -2, 2, 2));
  DeviceBuffer<unsigned char> workspace(dev::fused_workspace_bytes(pb, imx::mi::Estimator::jsd, false));
  const float loss = dev::fused(pb, imx::mi::Estimator::jsd, local.get(), global.get(), nullptr, nullptr, 1.0f,
                                workspace.get(), workspace.size(), nullptr);
  std::printf("planted_sync_driver: fused jsd loss %g, finished without a sanitizer report\n", loss);
  return 0;
}
