// grad(): gradients returned rather than accumulated, with respect to leaves or intermediate
// tensors, and second-order gradients (create_graph) against closed forms worked by hand.
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "helpers.h"
#include "tools/gradcheck/gradcheck.h"

using namespace imx;
using Catch::Contains;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& s) { return Tensor::from(v, s, DType::F64); }
Tensor param(const std::vector<double>& v, const Shape& s) {
  return f64(v, s).set_requires_grad();
}

void check_close(const Tensor& t, const std::vector<double>& expect) {
  const std::vector<double> got = t.to_vector();
  REQUIRE(got.size() == expect.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(expect[i]).epsilon(1e-12).margin(1e-14));
}

double sigmoid_ref(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

TEST_CASE("grad: the derivatives of x^3 built from mul, to the third order", "[grad]") {
  Tensor x = param({1, -2, 0.5}, {3});
  Tensor y = sum(mul(mul(x, x), x));
  Tensor d1 = grad({y}, {x}, {}, true)[0];
  check_close(d1, {3, 12, 0.75});  // 3x^2
  Tensor d2 = grad({sum(d1)}, {x}, {}, true)[0];
  check_close(d2, {6, -12, 3});  // 6x (the Hessian is diagonal)
  Tensor d3 = grad({sum(d2)}, {x})[0];
  check_close(d3, {6, 6, 6});
}

TEST_CASE("grad: second derivatives of sigmoid and softplus match closed forms", "[grad]") {
  const std::vector<double> pts{-2.5, -0.3, 0, 1.7};
  std::vector<double> sig2, soft2;
  for (double p : pts) {
    const double s = sigmoid_ref(p);
    sig2.push_back(s * (1 - s) * (1 - 2 * s));  // sigmoid''
    soft2.push_back(s * (1 - s));               // softplus'' = sigmoid'
  }
  Tensor x = param(pts, {4});
  Tensor gs = grad({sum(sigmoid(x))}, {x}, {}, true)[0];
  check_close(grad({sum(gs)}, {x})[0], sig2);
  Tensor gp = grad({sum(softplus(x))}, {x}, {}, true)[0];
  check_close(gp, {sigmoid_ref(-2.5), sigmoid_ref(-0.3), 0.5, sigmoid_ref(1.7)});
  check_close(grad({sum(gp)}, {x})[0], soft2);
}

TEST_CASE("grad: a gradient penalty through linear reaches the parameters' .grad", "[grad]") {
  // u = w.z + b, D = u^2, dD/dz = 2u w, P = |dD/dz|^2 = 4 u^2 |w|^2. With z = (1, 2),
  // w = (0.5, -1), b = 0.25: u = -1.25, |w|^2 = 1.25, P = 7.8125,
  // dP/db = 8 u |w|^2 = -12.5, dP/dw = 8 u |w|^2 z + 8 u^2 w = (-6.25, -37.5),
  // dP/dz = 8 u |w|^2 w = (-6.25, 12.5).
  Tensor z = param({1, 2}, {1, 2}), w = param({0.5, -1}, {1, 2}), b = param({0.25}, {1});
  Tensor d = sum(square(linear(z, w, b)));
  Tensor gz = grad({d}, {z}, {}, true)[0];
  check_close(gz, {-1.25, 2.5});  // 2u w
  Tensor penalty = sum(square(gz));
  CHECK(penalty.item() == Approx(7.8125));
  penalty.backward();
  check_close(b.grad(), {-12.5});
  check_close(w.grad(), {-6.25, -37.5});
  check_close(z.grad(), {-6.25, 12.5});
}

TEST_CASE("grad: matmul's transpose flags, and a second-order matmul value", "[grad]") {
  Tensor a = param({1, 2, 3, 4, 5, 6}, {2, 3}), b = param({1, -1, 2, 0.5, 0, 3}, {3, 2});
  const Tensor at = permute(a, {1, 0}).detach(), bt = permute(b, {1, 0}).detach();
  check_close(matmul(at, bt, true, true), matmul(a, b).to_vector());
  check_close(matmul(at, b, true, false), matmul(a, b).to_vector());
  check_close(matmul(a, bt, false, true), matmul(a, b).to_vector());
  // f = sum((ab)^2), df/da = 2 (ab) b^T, so sum(df/da) = 2 sum_ij (ab)_ij s_j with column
  // sums s_j = sum_k b_kj, and its derivative in b_kj is 2 (colsum(a)_k s_j + colsum(ab)_j).
  Tensor ga = grad({sum(square(matmul(a, b)))}, {a}, {}, true)[0];
  Tensor gb = grad({sum(ga)}, {b})[0];
  const std::vector<double> A{1, 2, 3, 4, 5, 6}, B{1, -1, 2, 0.5, 0, 3};
  std::vector<double> expect(6);
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 2; ++j) {
      const double colsum_a = A[k] + A[3 + k], s_j = B[j] + B[2 + j] + B[4 + j];
      double abcol = 0;
      for (int i = 0; i < 2; ++i)
        for (int m = 0; m < 3; ++m) abcol += A[3 * i + m] * B[2 * m + j];
      expect[2 * k + j] = 2 * (colsum_a * s_j + abcol);
    }
  check_close(gb, expect);
}

TEST_CASE("grad leaves every .grad untouched", "[grad]") {
  Tensor x = param({1, 2}, {2}), w = param({3, -1}, {2});
  sum(mul(x, w)).backward();  // x.grad = w
  for (bool create_graph : {false, true}) {
    const std::vector<Tensor> g = grad({sum(mul(mul(x, x), w))}, {x, w}, {}, create_graph);
    check_close(g[0], {6, -4});  // 2 x w
    check_close(g[1], {1, 4});   // x^2
    check_close(x.grad(), {3, -1});
    check_close(w.grad(), {1, 2});
  }
}

TEST_CASE("grad gives zeros for inputs that do not influence the outputs", "[grad]") {
  Tensor x = param({1, 2}, {2}), unused = param({5, 6, 7}, {3, 1});
  Tensor constant = f64({1, 1}, {2});
  const std::vector<Tensor> g = grad({sum(mul(x, x))}, {x, unused, constant});
  check_close(g[0], {2, 4});
  CHECK(g[1].shape() == Shape{3, 1});
  check_close(g[1], {0, 0, 0});
  check_close(g[2], {0, 0});
}

TEST_CASE("grad with respect to intermediate tensors, with grad_outputs", "[grad]") {
  Tensor x = param({1, -2}, {2});
  Tensor h = mul(x, x);
  Tensor y = mul(h, x);  // x^3, through h and directly
  // retain_graph: h's graph is walked again below.
  const std::vector<Tensor> g = grad({y}, {h, x}, {f64({2, 0.5}, {2})}, false, /*retain_graph=*/true);
  check_close(g[0], {2, -1});  // dy/dh = x, times the seed
  check_close(g[1], {6, 6});   // 3x^2 times the seed
  // Two outputs: the gradients of both add up.
  check_close(grad({sum(x), sum(h)}, {x})[0], {3, -3});  // 1 + 2x
  CHECK_THROWS_WITH(grad({y}, {x}, {f64({1}, {1})}), Contains("grad") && Contains("does not match"));
}

TEST_CASE("create_graph decides whether the gradients require grad", "[grad]") {
  Tensor x = param({0.5, -1}, {2});
  Tensor y = sum(sigmoid(x));
  const Tensor plain = grad({y}, {x}, {}, false, /*retain_graph=*/true)[0];
  CHECK(!plain.requires_grad());
  CHECK(!plain.grad_fn());
  const Tensor graph = grad({y}, {x}, {}, true)[0];
  CHECK(graph.requires_grad());
  check_close(graph, plain.to_vector());
  // A seed that requires grad comes back as it is (grad(y, y)); without create_graph it is cut.
  Tensor s = mul(x, x);
  CHECK(!grad({s}, {s}, {x})[0].requires_grad());
}

TEST_CASE("ops without a differentiable rule refuse create_graph by name", "[grad]") {
  Tensor x = testing::random_tensor({1, 2, 4, 4}, 3).set_requires_grad();
  Tensor w = testing::random_tensor({3, 2, 3, 3}, 4).set_requires_grad();
  Tensor h = conv2d(x, w, {}, 1, 1);
  Tensor y = sum(sigmoid(h));
  CHECK_THROWS_WITH(grad({y}, {x}, {}, true),
                    "conv2d: second-order gradients are not supported (create_graph)");
  CHECK_NOTHROW(grad({y}, {x}, {}, false, /*retain_graph=*/true));  // first order is fine
  // A gradient that stops before the op does not need its rule.
  CHECK(grad({y}, {h}, {}, true)[0].requires_grad());
  Tensor logits = testing::random_tensor({3, 4}, 5).set_requires_grad();
  CHECK_THROWS_WITH(grad({sum(log_softmax(logits))}, {logits}, {}, true),
                    Contains("log_softmax: second-order gradients are not supported"));
}

TEST_CASE("the second-order checker catches a rule that is not differentiable", "[grad]") {
  // y = x^2 with a correct first-order rule 2 g x that wrongly treats x as a constant (it
  // claims to be differentiable): d/dx of the gradient 2x then comes out as 0, not 2.
  auto planted = [](const Tensor& x) {
    return record_differentiable(square(x.detach()), "planted", {x}, [x](const Tensor& g) {
      return std::vector<Tensor>{mul(g, scale(x.detach(), 2))};
    });
  };
  gradcheck::Case wrong{"planted", "[4]",
                        [] { return std::vector<Tensor>{testing::random_tensor({4}, 1).set_requires_grad()}; },
                        [planted](const std::vector<Tensor>& x) {
                          EnableGrad recording;
                          Tensor g = grad({sum(planted(x[0]))}, {x[0]}, {}, true)[0];
                          return mul(g, x[0]);  // 2x^2 claimed as x * const
                        }};
  const auto r = gradcheck::check(wrong);
  CHECK(!r.pass);
  CHECK(r.max_rel_err == Approx(0.5).epsilon(1e-6));  // d(2x^2)/dx = 4x, claimed 2x
}

TEST_CASE("every second-order case passes the gradient checker", "[grad][gradcheck]") {
  for (const auto& c : gradcheck::second_order_cases()) {
    const auto r = gradcheck::check(c);
    INFO(c.op << " " << c.shape << " abs " << r.max_abs_err << " " << r.error);
    CHECK(r.pass);
  }
}

TEST_CASE("grad: cross_entropy scales its gradient by the upstream tensor", "[grad]") {
  // The nll backward takes the upstream gradient as a 0-d tensor (no host read of it on CUDA):
  // d/dlogits of up * mean_i -log softmax(z_i)[y_i] = up * (softmax(z_i) - onehot(y_i)) / n.
  const std::vector<double> z = {0.5, -1.0, 2.0, 0.0, 1.5, 0.25, -0.75, 3.0, -2.0, 1.0, 0.0, 0.5};
  const std::vector<int32_t> labels = {2, 0, 3};
  for (const double up : {1.0, 2.5, -1.0 / 3.0}) {
    CAPTURE(up);
    Tensor logits = param(z, {3, 4});
    const Tensor loss = cross_entropy(logits, labels);
    const std::vector<Tensor> g = grad({loss}, {logits}, {Tensor::full({}, up, DType::F64)});
    std::vector<double> expect(12);
    for (int i = 0; i < 3; ++i) {
      double denom = 0;
      for (int j = 0; j < 4; ++j) denom += std::exp(z[4 * i + j]);
      for (int j = 0; j < 4; ++j)
        expect[4 * i + j] = up * (std::exp(z[4 * i + j]) / denom - (j == labels[i] ? 1.0 : 0.0)) / 3.0;
    }
    check_close(g[0], expect);
  }
}
