// main() of mi_cuda_device_tests: the emulation tests of test_mi_cuda.cpp against the nvcc
// build, on a real device. Without one it prints why and exits 77, which ctest reports as
// skipped (never as passed).
#define CATCH_CONFIG_RUNNER
#include <catch.hpp>

#include <cstdio>

#include "losses/mi_cuda/mi_cuda.h"

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::printf("SKIPPED: mi_cuda_device_tests need a CUDA device: %s\n",
                status != cudaSuccess ? cudaGetErrorString(status) : "no device found");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
