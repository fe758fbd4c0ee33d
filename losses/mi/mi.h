// Mutual-information losses of Deep InfoMax between local features L (B x P x D) and global
// features G (B x K x D): every (global, local) pair is scored s = <G[i,k], L[j,p]>; pairs from
// the same image (j == i) are positives. See README.md for the exact semantics and gradients.
//
// Three implementations with one signature:
//   naive   - materializes the scores (and, for infoNCE, the authors' logits tensor); reference.
//   unfused - one gemm for the (B*K) x (B*P) score matrix, reductions, two gemms for gradients.
//   fused   - never stores the score matrix: column tiles are recomputed as needed and only
//             per-row statistics are kept (FlashAttention recipe). The fast path.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace imx::mi {

enum class Estimator { jsd, gan, kl, rkl, h2, x2, w1, dv, infonce, infonce_exact };

inline constexpr Estimator kAllEstimators[] = {
    Estimator::jsd, Estimator::gan, Estimator::kl,      Estimator::rkl,     Estimator::h2,
    Estimator::x2,  Estimator::w1,  Estimator::dv,      Estimator::infonce, Estimator::infonce_exact};

// "jsd", "gan", "kl", "rkl", "h2", "x2", "w1", "dv", "infonce", "infonce-exact".
std::string_view estimator_name(Estimator e);
// Throws std::invalid_argument naming the bad value and listing the valid ones.
Estimator parse_estimator(std::string_view name);
// Comma-separated list of every estimator name (for help texts and errors).
std::string estimator_names();

// Every estimator except the authors' infoNCE averages or normalizes over negatives, which do
// not exist when B == 1. (infoNCE's -10 fill keeps its loss defined at B == 1.)
bool needs_negatives(Estimator e);
// False for kl, rkl and h2, whose terms grow like e^{|s|}: they overflow (to +inf loss) for
// large scores, by definition. The others are finite for any finite scores.
bool finite_for_finite_scores(Estimator e);

enum class Impl { naive, unfused, fused };
std::string_view impl_name(Impl impl);
Impl parse_impl(std::string_view name);

struct Problem {
  int64_t B = 0;  // images
  int64_t P = 0;  // local vectors per image (M*M locations)
  int64_t D = 0;  // feature width
  int64_t K = 1;  // global vectors per image

  // Throws std::invalid_argument when a size is < 1 or the score matrix would overflow.
  void validate() const;
  // validate(), plus B >= 2 when `e` needs negatives.
  void validate_for(Estimator e) const;

  int64_t rows() const { return B * K; }  // global vectors: score-matrix rows
  int64_t cols() const { return B * P; }  // local vectors: score-matrix columns
  int64_t positives() const { return B * K * P; }
  int64_t negatives() const { return B * K * (B - 1) * P; }
  std::string to_string() const;  // "B=.. P=.. D=.. K=.."
};

inline constexpr std::size_t kDefaultScoreCacheBytes = std::size_t(32) << 20;

struct Options {
  // Multiplies both gradients: the upstream gradient of the (scalar) loss.
  double grad_scale = 1.0;
  // Worker threads (OpenMP, and OpenBLAS for the unfused/naive products); 0 = omp_get_max_threads().
  int threads = 0;
  // Fused only: width of a column tile of the score matrix; 0 = default_tile_cols().
  int64_t tile_cols = 0;
  // Fused only, infoNCE and DV with gradients (the estimators whose gradient pass needs the
  // log-sum-exp statistics of a first pass): score tiles of the first pass are kept for the
  // second up to this many bytes. infoNCE recomputes the rest; DV runs in two passes only when
  // every tile fits, and otherwise in one pass with no cache (fused_dv.h). The default holds
  // the whole score matrix of the DIM training sizes (B=64, P=64: 1 MiB) and of B=256, P=64
  // (16 MiB), while the scratch at any B stays bounded by it; 0 recomputes every tile (the
  // least memory).
  std::size_t score_cache_bytes = kDefaultScoreCacheBytes;
  // If set, receives the peak number of scratch bytes the call allocated (beyond the inputs and
  // the gradient outputs; OpenBLAS's own fixed buffers are not counted).
  std::size_t* peak_extra_bytes = nullptr;
};

// Optional outputs. A null pointer skips that gradient; both null = forward only. Outputs are
// overwritten (not accumulated): local is B x P x D, global is B x K x D, row-major.
template <class T>
struct Gradients {
  T* local = nullptr;
  T* global = nullptr;
  bool any() const { return local != nullptr || global != nullptr; }
};

// Each returns the loss and fills the requested gradients. T is float or double; the products
// and per-pair terms are computed in T, sums are accumulated in double.
template <class T>
T naive(const Problem& pb, Estimator e, const T* local, const T* global, Gradients<T> grads = {},
        const Options& opt = {});
template <class T>
T unfused(const Problem& pb, Estimator e, const T* local, const T* global, Gradients<T> grads = {},
          const Options& opt = {});
template <class T>
T fused(const Problem& pb, Estimator e, const T* local, const T* global, Gradients<T> grads = {},
        const Options& opt = {});
// Dispatches to one of the three.
template <class T>
T compute(Impl impl, const Problem& pb, Estimator e, const T* local, const T* global,
          Gradients<T> grads = {}, const Options& opt = {});

// The estimators over a score matrix the caller provides, for critics that produce scores
// directly: `scores` is (B*K) x (B*P), row-major, row i*K + k = global vector k of image i,
// column j*P + p = location p of image j (the layout of S = G L^T above; positives j == i).
// pb.D is ignored. Returns the loss; when `grads`, overwrites `scores` with dLoss/dS times
// opt.grad_scale (otherwise leaves them untouched). Same estimator code as unfused/fused.
template <class T>
T from_scores(const Problem& pb, Estimator e, T* scores, bool grads, const Options& opt = {});

// Scratch bytes each implementation allocates (exactly what peak_extra_bytes reports).
std::size_t naive_bytes(const Problem& pb, Estimator e, std::size_t elem_bytes = 4,
                        bool with_grads = true, const Options& opt = {});
std::size_t unfused_bytes(const Problem& pb, Estimator e, std::size_t elem_bytes = 4,
                          bool with_grads = true, const Options& opt = {});
std::size_t fused_bytes(const Problem& pb, Estimator e, std::size_t elem_bytes = 4,
                        bool with_grads = true, const Options& opt = {});
// from_scores: the estimator's scratch only (the matrix is the caller's).
std::size_t from_scores_bytes(const Problem& pb, Estimator e, std::size_t elem_bytes = 4,
                              bool with_grads = true, const Options& opt = {});
std::size_t extra_bytes(Impl impl, const Problem& pb, Estimator e, std::size_t elem_bytes = 4,
                        bool with_grads = true, const Options& opt = {});

// The fused path's column-tile width: about 256 KiB of scores per thread, at least 16 columns,
// and small enough that every thread gets tiles.
int64_t default_tile_cols(const Problem& pb, std::size_t elem_bytes, int threads);
// Options::threads resolved (0 -> omp_get_max_threads()).
int resolve_threads(const Options& opt);

}  // namespace imx::mi
