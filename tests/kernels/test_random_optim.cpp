// Philox dropout masks and uniform fills equal the CPU backend's bit for bit, at every offset
// alignment (a Philox call yields four positions); Adam and SGD agree with it over three steps.
#include "tests/kernels/kernel_test_util.h"

namespace imx::kernel_test {
namespace {

TEST_CASE("dropout_mask and uniform reproduce the CPU backend's Philox stream exactly",
          "[kernels][random]") {
  const std::vector<int64_t> full = {1, 2, 3, 5, 31, 1000, 4099};
  const std::vector<int64_t> small = {1, 5, 33};
  // Offsets at each alignment within a Philox block, and past 2^32 (the high counter word).
  const std::vector<uint64_t> offsets = {0, 1, 2, 3, 5, (uint64_t{1} << 32) + 3};
  const uint64_t seed = 0x1234'5678'9abc'def0ull;
  for_each_schedule([&] {
    for (int64_t n : sized(full, small)) {
      for (uint64_t offset : offsets) {
        CAPTURE(n, offset);
        DeviceBuffer<float> out(n);
        // The CPU backend takes p in double; the launcher in float. 0.1f is not 0.1: hand the
        // CPU the float's exact value, as the CUDA backend does when it narrows p.
        for (float p : {0.25f, 0.1f}) {
          ops::dropout_mask(seed, offset, p, out.get(), n, nullptr);
          Tensor want = cpu_empty({n});
          cpu_backend().dropout_mask(seed, offset, static_cast<double>(p), want);
          check_close(out.download(), as_floats(want), 0.0, "dropout_mask");
        }
        // Bounds that are not float values too (0.1, 1/3): the launcher takes them in double,
        // as the CPU backend does, so the two streams agree bit for bit.
        for (const auto& [lo, hi] : {std::pair{-0.5, 2.0}, std::pair{0.1, 1.0 / 3.0}}) {
          CAPTURE(lo, hi);
          ops::uniform(seed, offset, lo, hi, out.get(), n, nullptr);
          Tensor want = cpu_empty({n});
          cpu_backend().uniform(seed, offset, lo, hi, want);
          check_close(out.download(), as_floats(want), 0.0, "uniform");
        }
      }
    }
  });
}

TEST_CASE("adam_step and sgd_step follow the CPU backend over three steps", "[kernels][optim]") {
  const std::vector<int64_t> full = {1, 33, 1000, 4099};
  const std::vector<int64_t> small = {1, 33};
  for_each_schedule([&] {
    for (int64_t n : sized(full, small)) {
      CAPTURE(n);
      const std::vector<float> p0 = random_floats(n, 70);
      DeviceBuffer<float> p(p0), m(std::vector<float>(n, 0.0f)), v(std::vector<float>(n, 0.0f));
      DeviceBuffer<float> ps(p0), buf(n);
      Tensor cp = cpu_tensor(p0, {n}), cm = cpu_empty({n}), cv = cpu_empty({n});
      Tensor cps = cpu_tensor(p0, {n}), cbuf = cpu_empty({n});
      // The launchers take float hyperparameters; the CPU gets the same float values (in double),
      // as from a CUDA backend that narrows them. (With beta2 = 0.999 in double instead,
      // 1 - beta2 differs by 1.3e-5 relative and so does v.)
      const double lr = 1e-2f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, wd = 1e-2f;
      for (int64_t step = 1; step <= 3; ++step) {
        CAPTURE(step);
        const std::vector<float> g = random_floats(n, 80 + step);
        const DeviceBuffer<float> g_dev(g);
        const Tensor cg = cpu_tensor(g, {n});
        ops::adam_step(p.get(), g_dev.get(), m.get(), v.get(), n, lr, beta1, beta2, eps, wd,
                       static_cast<float>(1 - std::pow(beta1, step)),
                       static_cast<float>(1 - std::pow(beta2, step)), nullptr);
        cpu_backend().adam_step(cp, cg, cm, cv, lr, beta1, beta2, eps, wd, step);
        // float32 vs the CPU's double, a few ulps of each term. m and v are running averages of
        // g and g^2 with |g| <= 1 and may cancel to tiny values, so their scale is that of g (1).
        check_close(p.download(), as_floats(cp), 1e-6, "adam param");
        check_close(m.download(), as_floats(cm), 1e-6, "adam m", 1.0);
        check_close(v.download(), as_floats(cv), 1e-6, "adam v", 1.0);

        ops::sgd_step(ps.get(), g_dev.get(), buf.get(), n, 0.1f, 0.9f, 1e-2f, step == 1, nullptr);
        cpu_backend().sgd_step(cps, cg, cbuf, 0.1f, 0.9f, 1e-2f, step == 1);
        check_close(ps.download(), as_floats(cps), 1e-6, "sgd param");
        check_close(buf.download(), as_floats(cbuf), 1e-6, "sgd momentum buffer", 1.0);
      }
    }
  });
}

}  // namespace
}  // namespace imx::kernel_test
