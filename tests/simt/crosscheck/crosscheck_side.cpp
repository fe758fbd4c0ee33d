// One side of the cross-check: compiled twice, in emulation mode (run_emulated) and in the
// CUDA build's host mode (run_cuda), with identical code around the launchers.
#include "tests/simt/crosscheck/crosscheck.h"

#include <stdexcept>
#include <string>

#include "tests/simt/kernels/simt_test_kernels.cuh"
#include "tests/simt/test_data.h"

namespace imx::simt_crosscheck {

namespace {

namespace kt = imx::IMX_KNS::simt_test;

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string("simt cross-check: ") + what + " failed: " + cudaGetErrorString(status));
  }
}

// Device memory for the side being built (emulated or real), RAII.
template <class T>
struct Buffer {
  T* data = nullptr;
  std::size_t count;
  explicit Buffer(std::size_t n) : count(n) { check(cudaMalloc(&data, n * sizeof(T)), "cudaMalloc"); }
  explicit Buffer(const std::vector<T>& host) : Buffer(host.size()) {
    check(cudaMemcpy(data, host.data(), count * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
  }
  ~Buffer() { cudaFree(data); }
  std::vector<T> download() const {
    check(cudaGetLastError(), "kernel launch");
    check(cudaDeviceSynchronize(), "kernel execution");
    std::vector<T> host(count);
    check(cudaMemcpy(host.data(), data, count * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
    return host;
  }
};

Outputs run_side() {
  Outputs out;
  {
    const dim3 grid(3, 2, 2), block(5, 3, 2);
    Buffer<unsigned> indices(3 * 2 * 2 * 5 * 3 * 2 * kt::kIndexFields);
    kt::write_thread_indices(grid, block, indices.data);
    out.indices = indices.download();
  }
  const int n = 1000;
  const Buffer<float> x(simt_test::random_int_floats(n, -9, 9, 11));
  {
    Buffer<float> sums((n + 255) / 256);
    kt::block_sums(x.data, n, 256, true, sums.data);
    out.block_sums_static = sums.download();
    Buffer<float> dynamic_sums((n + 95) / 96);
    kt::block_sums(x.data, n, 96, false, dynamic_sums.data);
    out.block_sums_dynamic = dynamic_sums.download();
  }
  {
    const int count = 3 * 64 - 5;
    Buffer<float> shuffles(static_cast<std::size_t>(count) * kt::kShuffleFields);
    kt::warp_shuffles(x.data, count, 64, shuffles.data);
    out.shuffles = shuffles.download();
  }
  const Buffer<int> ints(simt_test::random_ints(n, -50, 50, 3));
  {
    Buffer<int> warp_sums(static_cast<std::size_t>((n + 44) / 45) * 2);
    kt::warp_sums(ints.data, n, 45, warp_sums.data);
    out.warp_sums = warp_sums.download();
    const int count = 3 * 64 - 9;
    Buffer<int> votes(static_cast<std::size_t>(count) * kt::kVoteFields);
    kt::votes(ints.data, count, 64, votes.data);
    out.votes = votes.download();
  }
  {
    Buffer<unsigned> histogram(std::vector<unsigned>(7, 0));
    Buffer<float> sums(std::vector<float>{0.0f});
    Buffer<double> sums_d(std::vector<double>{0.0});
    Buffer<int> extrema(std::vector<int>{-1000, 1000});
    Buffer<unsigned long long> cas_sum(std::vector<unsigned long long>{0});
    kt::atomics(ints.data, n, 7, histogram.data, sums.data, sums_d.data, extrema.data, cas_sum.data);
    out.histogram = histogram.download();
    out.extrema = extrema.download();
  }
  {
    const int m = 37, cols = 29, k = 45;
    const Buffer<float> a(simt_test::random_int_floats(static_cast<std::size_t>(m) * k, -3, 3, 1));
    const Buffer<float> b(simt_test::random_int_floats(static_cast<std::size_t>(k) * cols, -3, 3, 2));
    Buffer<float> c(static_cast<std::size_t>(m) * cols);
    kt::tiled_matmul(a.data, b.data, c.data, m, cols, k, kt::MatmulVariant::Correct);
    out.matmul = c.download();
  }
  {
    Buffer<float> scaled(300);
    kt::broadcast_scale(x.data, 300, 64, false, scaled.data);
    out.broadcast = scaled.download();
  }
  return out;
}

}  // namespace

#if defined(IMX_SIMT_EMU)
Outputs run_emulated() { return run_side(); }
#else
Outputs run_cuda() { return run_side(); }

int cuda_device_count(std::string& why) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    why = cudaGetErrorString(status);
    return 0;
  }
  if (count == 0) why = "no CUDA device";
  return count;
}
#endif

}  // namespace imx::simt_crosscheck
