// Atomics from many threads (and, with several workers, from several OS threads).
#include "tests/simt/kernels/simt_test_kernels.cuh"

namespace imx::IMX_KNS::simt_test {

namespace {

IMX_KERNEL void atomics_kernel(const int* x, int n, int bins, unsigned* hist, float* sums, double* sums_d,
                               int* extrema, unsigned long long* cas_sum) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const int v = x[i];
    atomicAdd(&hist[((v % bins) + bins) % bins], 1u);
    atomicAdd(&sums[0], static_cast<float>(v));
    atomicAdd(&sums_d[0], static_cast<double>(v));
    atomicMax(&extrema[0], v);
    atomicMin(&extrema[1], v);
    // An add built from compare-and-swap, the way custom atomics are written. The first
    // guess is 0 rather than a plain read of *cas_sum, which would race with the CASes.
    unsigned long long seen = 0;
    for (;;) {
      const unsigned long long wanted = seen + static_cast<unsigned long long>(static_cast<long long>(v));
      const unsigned long long previous = atomicCAS(cas_sum, seen, wanted);
      if (previous == seen) break;
      seen = previous;
    }
  }
}

}  // namespace

void atomics(const int* x, int n, int bins, unsigned* hist, float* sums, double* sums_d, int* extrema,
             unsigned long long* cas_sum, cudaStream_t stream) {
  // Fewer threads than elements: the grid-stride loop is exercised too.
  IMX_LAUNCH(atomics_kernel, 5, 96, 0, stream)(x, n, bins, hist, sums, sums_d, extrema, cas_sum);
}

}  // namespace imx::IMX_KNS::simt_test
