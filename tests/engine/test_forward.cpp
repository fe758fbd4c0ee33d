// Each op's forward pass against a naive float64 loop (tests/engine/reference.h), in float64
// (tight) and float32 (the training precision).
#include "engine/ops.h"
#include "helpers.h"
#include "reference.h"

using namespace imx;
using testing::random_tensor;
using testing::rel_error;

namespace {
const double kTol64 = 1e-12, kTol32 = 2e-5;
double tol(DType d) { return d == DType::F64 ? kTol64 : kTol32; }
}  // namespace

TEST_CASE("matmul and linear match loops at odd sizes", "[forward]") {
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor a = random_tensor({37, 19}, 1, dt), b = random_tensor({19, 23}, 2, dt);
    CHECK(rel_error(matmul(a, b).to_vector(), ref::matmul(a.to_vector(), b.to_vector(), 37, 19, 23)) <
          tol(dt));
    Tensor w = random_tensor({23, 19}, 3, dt), bias = random_tensor({23}, 4, dt);
    auto expect = ref::matmul(a.to_vector(), permute(w, {1, 0}).to_vector(), 37, 19, 23);
    const auto bv = bias.to_vector();
    for (int i = 0; i < 37; ++i)
      for (int j = 0; j < 23; ++j) expect[i * 23 + j] += bv[j];
    CHECK(rel_error(linear(a, w, bias).to_vector(), expect) < tol(dt));
    // linear_sum adds a second product, z v^T, into the same output.
    Tensor z = random_tensor({37, 5}, 5, dt), v = random_tensor({23, 5}, 6, dt);
    const auto zv = ref::matmul(z.to_vector(), permute(v, {1, 0}).to_vector(), 37, 5, 23);
    for (size_t i = 0; i < expect.size(); ++i) expect[i] += zv[i];
    CHECK(rel_error(linear_sum({a, z}, {w, v}, bias).to_vector(), expect) < tol(dt));
  }
}

TEST_CASE("conv2d matches a direct convolution", "[forward]") {
  struct C { int n, ci, h, w, co, k, s, p; };
  for (DType dt : {DType::F64, DType::F32})
    for (C c : {C{2, 3, 9, 7, 5, 3, 1, 1}, C{3, 4, 10, 10, 6, 4, 2, 1}, C{1, 2, 13, 13, 3, 5, 2, 2},
                C{2, 7, 5, 5, 4, 1, 1, 0}}) {
      Tensor x = random_tensor({c.n, c.ci, c.h, c.w}, 5, dt);
      Tensor w = random_tensor({c.co, c.ci, c.k, c.k}, 6, dt), b = random_tensor({c.co}, 7, dt);
      const auto expect = ref::conv2d(x.to_vector(), w.to_vector(), b.to_vector(), c.n, c.ci, c.h,
                                      c.w, c.co, c.k, c.s, c.p);
      CHECK(rel_error(conv2d(x, w, b, c.s, c.p).to_vector(), expect) < tol(dt));
    }
}

TEST_CASE("conv2d splits large batches into chunks without changing results", "[forward]") {
  // 64 images of 3x64x64 with a 4x4 kernel exceed one im2col chunk.
  Tensor x = random_tensor({64, 3, 64, 64}, 8, DType::F32), w = random_tensor({2, 3, 4, 4}, 9, DType::F32);
  const auto expect = ref::conv2d(x.to_vector(), w.to_vector(), {}, 64, 3, 64, 64, 2, 4, 2, 1);
  CHECK(rel_error(conv2d(x, w, {}, 2, 1).to_vector(), expect) < kTol32);
}

TEST_CASE("max_pool2d matches windows, padding never wins", "[forward]") {
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor x = random_tensor({2, 3, 9, 8}, 10, dt, -3, -1);  // all negative: padding must not win
    CHECK(rel_error(max_pool2d(x, 3, 2).to_vector(), ref::maxpool(x.to_vector(), 2, 3, 9, 8, 3, 2, 0)) == 0);
    CHECK(rel_error(max_pool2d(x, 2, 2, 1).to_vector(), ref::maxpool(x.to_vector(), 2, 3, 9, 8, 2, 2, 1)) == 0);
  }
}

TEST_CASE("batch_norm: train statistics, running updates, eval", "[forward]") {
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor x = random_tensor({5, 3, 4, 3}, 11, dt, -2, 3);
    Tensor g = random_tensor({3}, 12, dt, 0.5, 1.5), b = random_tensor({3}, 13, dt);
    Tensor rm = Tensor::zeros({3}, dt), rv = Tensor::full({3}, 1.0, dt);
    ref::V var;
    const auto expect = ref::batchnorm(x.to_vector(), g.to_vector(), b.to_vector(), 5, 3, 12, 1e-5, &var);
    CHECK(rel_error(batch_norm(x, g, b, rm, rv, true, 0.1).to_vector(), expect) < tol(dt) * 10);
    // Running statistics: momentum 0.1 toward the batch mean and the unbiased variance.
    const auto xs = x.to_vector();
    for (int c = 0; c < 3; ++c) {
      double mean = 0;
      for (int n = 0; n < 5; ++n)
        for (int j = 0; j < 12; ++j) mean += xs[(n * 3 + c) * 12 + j];
      mean /= 60;
      CHECK(rm.to_vector()[c] == Approx(0.1 * mean).epsilon(1e-5));
      CHECK(rv.to_vector()[c] == Approx(0.9 + 0.1 * var[c] * 60 / 59).epsilon(1e-5));
    }
    // The fused ReLU: max(0, .) of the same values, and the same running statistics.
    Tensor rm2 = Tensor::zeros({3}, dt), rv2 = Tensor::full({3}, 1.0, dt);
    const auto fused = batch_norm(x, g, b, rm2, rv2, true, 0.1, 1e-5, /*relu=*/true).to_vector();
    for (size_t i = 0; i < expect.size(); ++i) CHECK(fused[i] == Approx(std::max(expect[i], 0.0)).margin(tol(dt) * 10));
    CHECK(rm2.to_vector() == rm.to_vector());
    CHECK(rv2.to_vector() == rv.to_vector());
    // Eval uses the running statistics.
    const auto y = batch_norm(x, g, b, rm, rv, false).to_vector();
    const auto rmv = rm.to_vector(), rvv = rv.to_vector(), gv = g.to_vector(), bv = b.to_vector();
    for (int i = 0; i < 180; ++i) {
      const int c = (i / 12) % 3;
      CHECK(y[i] == Approx((xs[i] - rmv[c]) / std::sqrt(rvv[c] + 1e-5) * gv[c] + bv[c]).epsilon(1e-5));
    }
  }
}

TEST_CASE("layer_norm_channels normalizes over channels at each position", "[forward]") {
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor x = random_tensor({3, 7, 2, 5}, 14, dt, -2, 3);
    Tensor g = random_tensor({7}, 15, dt, 0.5, 1.5), b = random_tensor({7}, 16, dt);
    const auto expect = ref::layernorm_channels(x.to_vector(), g.to_vector(), b.to_vector(), 3, 7, 10, 1e-5);
    CHECK(rel_error(layer_norm_channels(x, g, b).to_vector(), expect) < tol(dt) * 10);
  }
}

TEST_CASE("layer_norm_channels over rows [N, C]: float32 output and gradients match float64", "[forward]") {
  // Rows (the critic's [N*M*M, units]) take their own vectorized kernels; a mean far from 0
  // checks that the float32 map does not lose the shifted values.
  Tensor x = random_tensor({37, 70}, 18, DType::F64, 4, 6), g = random_tensor({70}, 19, DType::F64, 0.5, 1.5),
         b = random_tensor({70}, 20, DType::F64), r = random_tensor({37, 70}, 21, DType::F64);
  std::vector<std::vector<double>> out[2];
  for (int k = 0; k < 2; ++k) {
    const DType dt = k == 0 ? DType::F64 : DType::F32;
    Tensor xs = x.to(dt), gs = g.to(dt), bs = b.to(dt);
    for (Tensor* t : {&xs, &gs, &bs}) t->set_requires_grad(true);
    Tensor y = layer_norm_channels(xs, gs, bs);
    sum(mul(y, r.to(dt))).backward();
    out[k] = {y.to_vector(), xs.grad().to_vector(), gs.grad().to_vector(), bs.grad().to_vector()};
  }
  const auto expect = ref::layernorm_channels(x.to_vector(), g.to_vector(), b.to_vector(), 37, 70, 1, 1e-5);
  CHECK(rel_error(out[0][0], expect) < kTol64 * 10);
  for (int i = 0; i < 4; ++i) CHECK(rel_error(out[1][i], out[0][i]) < kTol32 * 10);
}

TEST_CASE("elementwise maps against std::", "[forward]") {
  Tensor x = random_tensor({101}, 17, DType::F64, -30, 30);
  const auto xv = x.to_vector();
  const auto r = relu(x).to_vector(), s = sigmoid(x).to_vector(), sp = softplus(x).to_vector();
  for (size_t i = 0; i < xv.size(); ++i) {
    CHECK(r[i] == std::max(xv[i], 0.0));
    CHECK(s[i] == Approx(1 / (1 + std::exp(-xv[i]))).epsilon(1e-14));
    CHECK(sp[i] == Approx(std::log1p(std::exp(xv[i]))).epsilon(1e-14));
  }
  // Softplus and sigmoid stay finite far outside float32's exp range.
  Tensor big = Tensor::from({-200, 200}, {2}, DType::F32);
  CHECK(softplus(big).to_vector() == std::vector<double>{0.0, 200.0});
  CHECK(sigmoid(big).to_vector() == std::vector<double>{0.0, 1.0});
}

TEST_CASE("broadcasting arithmetic follows NumPy", "[forward]") {
  Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 1, 3}, DType::F64);
  Tensor b = Tensor::from({10, 20}, {2, 1}, DType::F64);
  Tensor c = add(a, b);  // [2, 2, 3]
  REQUIRE(c.shape() == Shape{2, 2, 3});
  CHECK(c.to_vector() == std::vector<double>{11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26});
  CHECK(mul(a, b).to_vector()[4] == 40);
  CHECK(sub(b, a).shape() == Shape{2, 2, 3});
  CHECK(div(a, b).to_vector()[11] == Approx(6.0 / 20));
}

TEST_CASE("shape ops move the right elements", "[forward]") {
  Tensor x = Tensor::from({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23},
                          {2, 3, 4}, DType::F64);
  Tensor p = permute(x, {2, 0, 1});  // p[k, i, j] = x[i, j, k]
  REQUIRE(p.shape() == Shape{4, 2, 3});
  CHECK(p.to_vector()[1 * 6 + 1 * 3 + 2] == 1 * 12 + 2 * 4 + 1);
  CHECK(slice(x, 2, 1, 3).to_vector() == std::vector<double>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});
  Tensor c = concat({slice(x, 1, 0, 1), slice(x, 1, 2, 3)}, 1);
  CHECK(c.to_vector() == std::vector<double>{0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23});
  CHECK(reshape(x, {-1, 6}).shape() == Shape{4, 6});
  CHECK(flatten(x).shape() == Shape{2, 12});
  CHECK(sum(x).item() == 276);
  CHECK(sum(x, {0, 2}).to_vector() == std::vector<double>{60, 92, 124});
  CHECK(mean(x, {1}, true).shape() == Shape{2, 1, 4});
  CHECK(mean(x, {1}).to_vector()[0] == 4);
  CHECK(broadcast_to(Tensor::from({1, 2}, {2, 1}, DType::F64), {2, 3}).to_vector() ==
        std::vector<double>{1, 1, 1, 2, 2, 2});
}

TEST_CASE("log_softmax and cross_entropy", "[forward]") {
  Tensor x = random_tensor({6, 9}, 18, DType::F64, -5, 5);
  const auto expect = ref::log_softmax(x.to_vector(), 6, 9);
  CHECK(rel_error(log_softmax(x).to_vector(), expect) < kTol64);
  const std::vector<int32_t> labels{0, 8, 3, 3, 1, 7};
  double ce = 0;
  for (int r = 0; r < 6; ++r) ce -= expect[r * 9 + labels[r]];
  CHECK(cross_entropy(x, labels).item() == Approx(ce / 6).epsilon(1e-14));
  // Large logits stay finite in float32.
  Tensor big = Tensor::from({1000, 0, -1000, 0}, {2, 2}, DType::F32);
  CHECK(cross_entropy(big, {1, 0}).item() == Approx(1000).epsilon(1e-6));  // both rows: -(-1000)
}

TEST_CASE("dropout keeps about 1-p of the values, scaled by 1/(1-p), and is off in eval", "[forward]") {
  Tensor x = Tensor::full({100000}, 1.0);
  const auto y = dropout(x, 0.25, true, 7, 0).to_vector();
  int kept = 0;
  for (double v : y) {
    CHECK((v == 0 || std::abs(v - 1 / 0.75) < 1e-6));
    kept += v != 0;
  }
  CHECK(std::abs(kept / 100000.0 - 0.75) < 0.01);  // ~6 binomial standard deviations
  CHECK(dropout(x, 0.25, false, 7, 0).to_vector() == x.to_vector());
}

TEST_CASE("Tensor::wrap uses the caller's memory and keeps its owner alive", "[forward]") {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  std::weak_ptr<std::vector<float>> watch = owner;
  Tensor t = Tensor::wrap(std::shared_ptr<void>(owner, owner->data()), {2, 3});
  owner.reset();
  REQUIRE(!watch.expired());  // the tensor holds the buffer
  CHECK(sum(t, {1}).to_vector() == std::vector<double>{6, 15});
  t = Tensor();
  CHECK(watch.expired());
}
