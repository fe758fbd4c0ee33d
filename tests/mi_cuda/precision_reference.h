// The error budget of the fast modes (tf32, bf16): FlashAttention's rule, at most twice the
// error of a plain implementation in the same precision. The plain implementation here is
// what a framework's autocast would do, on the CPU in double: S = r(G) r(L)^T, the estimator
// on S in double (mi::from_scores), then dL = r(dS)^T r(G) and dG = r(dS) r(L), where r rounds
// to the precision (tf32: nearest, ties away, as cvt.rna; bf16: nearest even).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "losses/mi/mi.h"
#include "tests/mi/mi_test_util.h"

namespace imx::mi::cuda_test {

enum class Rounding { tf32, bf16 };

inline float round_to(Rounding r, float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7F800000u) == 0x7F800000u) return x;
  if (r == Rounding::tf32) u = (u + 0x1000u) & 0xFFFFE000u;
  else u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
  float y;
  std::memcpy(&y, &u, 4);
  return y;
}

inline std::vector<double> rounded(Rounding r, const std::vector<double>& v) {
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = round_to(r, static_cast<float>(v[i]));
  return out;
}

// The plain same-precision implementation described above, on float32 inputs.
inline test::Outcome<double> plain_reference(Rounding r, const Problem& pb, Estimator e, const std::vector<float>& L,
                                             const std::vector<float>& G) {
  const std::vector<double> Lr = rounded(r, test::cast<double>(L)), Gr = rounded(r, test::cast<double>(G));
  std::vector<double> S = test::scores_of(pb, Lr, Gr);  // R x C
  Options opt;
  opt.threads = 1;
  test::Outcome<double> out;
  out.loss = from_scores<double>(pb, e, S.data(), true, opt);  // S now holds dS
  const std::vector<double> dS = rounded(r, S);
  const int64_t R = pb.rows(), C = pb.cols(), D = pb.D;
  out.dlocal.assign(C * D, 0.0);
  out.dglobal.assign(R * D, 0.0);
  for (int64_t i = 0; i < R; ++i)
    for (int64_t j = 0; j < C; ++j) {
      const double s = dS[i * C + j];
      for (int64_t d = 0; d < D; ++d) {
        out.dlocal[j * D + d] += s * Gr[i * D + d];
        out.dglobal[i * D + d] += s * Lr[j * D + d];
      }
    }
  return out;
}

}  // namespace imx::mi::cuda_test
