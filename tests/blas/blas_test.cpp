// blas::gemm (blas/gemm.h): every transpose combination at odd sizes with leading dimensions
// wider than the rows, through OpenBLAS and through oneDNN, against a float64 loop; the
// automatic choice of library follows the documented shape rule; bad settings are refused.
#include <catch.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "blas/gemm.h"

using namespace imx;

namespace {

// Restores the process-wide setting whatever a test does.
struct LibraryGuard {
  blas::SgemmLibrary saved = blas::sgemm_library();
  ~LibraryGuard() { blas::set_sgemm_library(saved); }
};

// C (M x N, leading dimension ldc) = alpha op(A) op(B) + beta C in float64, from the stored floats.
std::vector<double> reference(bool ta, bool tb, int M, int N, int K, double alpha, const std::vector<float>& A, int lda,
                              const std::vector<float>& B, int ldb, double beta, const std::vector<float>& C, int ldc) {
  std::vector<double> out(C.begin(), C.end());
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int k = 0; k < K; ++k) s += double(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
      out[i * ldc + j] = alpha * s + beta * C[i * ldc + j];
    }
  return out;
}

}  // namespace

TEST_CASE("blas::gemm matches a float64 loop through each library, every transpose, padded rows", "[blas]") {
  LibraryGuard guard;
  std::vector<blas::SgemmLibrary> libraries{blas::SgemmLibrary::openblas, blas::SgemmLibrary::automatic};
  if (blas::have_onednn()) libraries.push_back(blas::SgemmLibrary::onednn);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  const int M = 37, N = 29, K = 83;  // odd sizes: no library's blocking divides them
  for (auto library : libraries)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("library " << blas::sgemm_library_name(library) << " ta " << ta << " tb " << tb);
        blas::set_sgemm_library(library);
        const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;  // rows wider than the matrices
        std::vector<float> A(size_t(ta ? K : M) * lda), B(size_t(tb ? N : K) * ldb), C(size_t(M) * ldc);
        for (float& x : A) x = u(rng);
        for (float& x : B) x = u(rng);
        for (float& x : C) x = u(rng);
        const auto expect = reference(ta, tb, M, N, K, 0.75, A, lda, B, ldb, -0.5, C, ldc);
        blas::gemm<float>(ta, tb, M, N, K, 0.75f, A.data(), lda, B.data(), ldb, -0.5f, C.data(), ldc);
        double worst = 0;
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < N; ++j) worst = std::max(worst, std::abs(C[i * ldc + j] - expect[i * ldc + j]));
        CHECK(worst < 1e-4);  // K = 83 products of values below 1, in float32
        // The padding between rows is never written.
        for (int i = 0; i < M; ++i)
          for (int j = N; j < ldc; ++j) CHECK(C[i * ldc + j] == float(expect[i * ldc + j]));
      }
}

TEST_CASE("blas::gemm<double> matches a float64 loop", "[blas]") {
  const int M = 5, N = 7, K = 9;
  std::vector<double> A(M * K), B(K * N), C(M * N, 1.0);
  for (int i = 0; i < M * K; ++i) A[i] = 0.1 * i - 1;
  for (int i = 0; i < K * N; ++i) B[i] = 0.05 * i;
  blas::gemm<double>(false, false, M, N, K, 1.0, A.data(), K, B.data(), N, 2.0, C.data(), N);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 2.0;
      for (int k = 0; k < K; ++k) s += A[i * K + k] * B[k * N + j];
      CHECK(C[i * N + j] == Approx(s).epsilon(1e-14));
    }
}

TEST_CASE("the automatic choice follows the measured shape rule", "[blas]") {
  using L = blas::SgemmLibrary;
  if (!blas::have_onednn()) {
    CHECK(blas::sgemm_choice(false, false, 4096, 512, 512) == L::openblas);
    return;
  }
  CHECK(blas::sgemm_choice(false, false, 64, 64, 64) == L::openblas);  // a few MFLOP
  CHECK(blas::sgemm_choice(false, false, 4096, 128, 512) == L::onednn);
  CHECK(blas::sgemm_choice(true, false, 512, 128, 4096) == L::onednn);
  CHECK(blas::sgemm_choice(false, true, 4096, 512, 128) == L::onednn);    // A B^T, large M
  CHECK(blas::sgemm_choice(false, true, 64, 1024, 4096) == L::openblas);  // A B^T, small M
  CHECK(blas::sgemm_choice(false, false, 64, 8192, 48) == L::openblas);   // K < 64
}

TEST_CASE("a product gives the same bits on one thread as on two", "[blas]") {
  // The DIM step's shapes (batch 64, 512 and 2048 units, the convs' chunks), and A B^T with a
  // small M and a long K, where oneDNN would split K by the thread count.
  struct Shape {
    bool ta, tb;
    int m, n, k;
  };
  const Shape shapes[] = {{false, true, 4096, 512, 128}, {false, false, 4096, 128, 512}, {true, false, 512, 128, 4096},
                          {false, false, 64, 4096, 1024}, {false, true, 64, 1024, 4096}, {true, false, 1024, 4096, 64},
                          {false, false, 128, 1024, 1024}, {false, true, 128, 1024, 1024}, {true, false, 1024, 1024, 128},
                          {false, true, 200, 1024, 4096}, {true, false, 2048, 512, 256}, {false, true, 4096, 2048, 128}};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  const int threads = omp_get_max_threads();
  for (const Shape& s : shapes) {
    INFO("ta " << s.ta << " tb " << s.tb << " " << s.m << " x " << s.n << " x " << s.k);
    std::vector<float> A(size_t(s.m) * s.k), B(size_t(s.k) * s.n), one(size_t(s.m) * s.n), two(one.size());
    for (float& x : A) x = u(rng);
    for (float& x : B) x = u(rng);
    const int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    {
      blas::ScopedThreads single(1);
      blas::gemm<float>(s.ta, s.tb, s.m, s.n, s.k, 1.f, A.data(), lda, B.data(), ldb, 0.f, one.data(), s.n);
    }
    {
      blas::ScopedThreads both(std::max(2, threads));
      blas::gemm<float>(s.ta, s.tb, s.m, s.n, s.k, 1.f, A.data(), lda, B.data(), ldb, 0.f, two.data(), s.n);
    }
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("blas::ScopedThreads sets and restores both libraries' thread counts", "[blas]") {
  const int before = omp_get_max_threads();
  {
    blas::ScopedThreads one(1);
    CHECK(omp_get_max_threads() == 1);
  }
  CHECK(omp_get_max_threads() == before);
}
