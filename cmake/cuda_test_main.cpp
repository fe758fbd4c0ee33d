// main() of the CUDA-only test binaries (imx_add_cuda_test): without a usable device it prints
// why and exits 77, which ctest reports as skipped (never as passed); with one it runs Catch2.
#define CATCH_CONFIG_RUNNER
#include <catch.hpp>
#include <cuda_runtime_api.h>

#include <cstdio>

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::printf("SKIPPED: %s needs a CUDA device: %s\n", argc > 0 ? argv[0] : "this test",
                status != cudaSuccess ? cudaGetErrorString(status) : "the driver reports 0 devices");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
