// Runs the tests/simt kernels on fixed inputs in one build (emulated or CUDA) and returns
// every output, so that a GPU machine can check the emulation against the hardware.
// Plain C++: included by both sides and by main, never together with simt.h's two modes.
#pragma once

#include <string>
#include <vector>

namespace imx::simt_crosscheck {

struct Outputs {
  std::vector<unsigned> indices;
  std::vector<float> block_sums_static;
  std::vector<float> block_sums_dynamic;
  std::vector<float> shuffles;
  std::vector<int> warp_sums;
  std::vector<int> votes;
  std::vector<unsigned> histogram;
  std::vector<int> extrema;
  std::vector<float> matmul;
  std::vector<float> broadcast;
};

// Same source (crosscheck_side.cpp), compiled against the emulated and the CUDA kernels.
Outputs run_emulated();
Outputs run_cuda();
// Number of CUDA devices; 0 with `why` filled in when there is none.
int cuda_device_count(std::string& why);

}  // namespace imx::simt_crosscheck
