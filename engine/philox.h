// Philox4x32-10 (Salmon et al., SC'11): a counter-based generator. The value at a counter depends
// only on (key, counter), so the CPU and CUDA backends produce identical streams for the same
// seed regardless of how the work is split across threads. Usable from host and device code.
#pragma once
#include <cstdint>

// IMX_HD carries `inline`, as in kernels/simt/simt.h, so either definition may come first.
#ifndef IMX_HD
#if defined(__CUDACC__)
#define IMX_HD __host__ __device__ inline
#else
#define IMX_HD inline
#endif
#endif

namespace imx::philox {

struct Block {
  uint32_t v[4];
};

IMX_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// The bijection on a 128-bit counter under a 64-bit key (ten rounds).
IMX_HD Block philox4x32_10(Block ctr, uint32_t k0, uint32_t k1) {
  uint32_t c0 = ctr.v[0], c1 = ctr.v[1], c2 = ctr.v[2], c3 = ctr.v[3];
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
    const uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Block{{c0, c1, c2, c3}};
}

// Four 32-bit words for a 64-bit counter under a 64-bit seed.
IMX_HD Block generate(uint64_t seed, uint64_t ctr) {
  return philox4x32_10(Block{{static_cast<uint32_t>(ctr), static_cast<uint32_t>(ctr >> 32), 0, 0}},
                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Element i of the stream: word i%4 of block i/4, mapped to [0, 1) with 24 bits, the same
// float on every device.
IMX_HD float uniform(uint64_t seed, uint64_t i) {
  const Block b = generate(seed, i >> 2);
  return static_cast<float>(b.v[i & 3] >> 8) * (1.0f / 16777216.0f);
}

}  // namespace imx::philox
