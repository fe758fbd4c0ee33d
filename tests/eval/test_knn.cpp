// The blocked k-NN against a brute-force reference written from the definition: cosine
// similarities in float64, full sort, votes exp(sim / tau).
#include <catch.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "evaluation/knn.h"
#include "synthetic.h"

using namespace imx;
using namespace imx::eval;

namespace {

std::vector<int32_t> brute_force(const std::vector<double>& train, const std::vector<int32_t>& labels,
                                 const std::vector<double>& test, int64_t d, int64_t k, int64_t classes, double tau,
                                 std::vector<std::vector<int64_t>>& neighbours) {
  const int64_t n = static_cast<int64_t>(labels.size()), q = static_cast<int64_t>(test.size()) / d;
  auto norm = [&](const std::vector<double>& v, int64_t i) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += v[i * d + j] * v[i * d + j];
    return std::sqrt(s);
  };
  std::vector<int32_t> out;
  for (int64_t i = 0; i < q; ++i) {
    std::vector<double> sim(n);
    for (int64_t t = 0; t < n; ++t) {
      double dot = 0;
      for (int64_t j = 0; j < d; ++j) dot += test[i * d + j] * train[t * d + j];
      sim[t] = dot / (norm(test, i) * norm(train, t));
    }
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sim[a] > sim[b]; });
    order.resize(k);
    neighbours.push_back(order);
    std::vector<double> votes(classes, 0.0);
    for (int64_t t : order) votes[labels[t]] += std::exp(sim[t] / tau);
    out.push_back(static_cast<int32_t>(std::max_element(votes.begin(), votes.end()) - votes.begin()));
  }
  return out;
}

}  // namespace

TEST_CASE("k-NN predicts exactly the labels of a brute-force reference", "[eval][knn]") {
  // Overlapping blobs, so votes are close and a wrong weight or neighbour would change labels.
  const int64_t d = 8, classes = 5, k = 20;
  const testing::Blobs train = testing::blobs(600, d, classes, 1.0, 11);
  const testing::Blobs test = testing::blobs(150, d, classes, 1.0, 12);
  std::vector<std::vector<int64_t>> expected_neighbours;
  const std::vector<int32_t> expected = brute_force(train.x.to_vector(), train.labels, test.x.to_vector(), d, k,
                                                    classes, 0.07, expected_neighbours);
  KnnOptions o;
  o.block = 64;  // several blocks, the last one partial
  const Neighbours nb = nearest_neighbours(train.x, test.x, o);
  for (size_t i = 0; i < expected_neighbours.size(); ++i)
    CHECK(std::vector<int64_t>(nb.index.begin() + i * k, nb.index.begin() + (i + 1) * k) == expected_neighbours[i]);
  const std::vector<int32_t> predicted = knn_vote(nb, train.labels, classes, o.temperature);
  CHECK(predicted == expected);
  // The reference disagrees with the true labels often enough that the check above has teeth.
  int64_t wrong = 0;
  for (size_t i = 0; i < expected.size(); ++i) wrong += expected[i] != test.labels[i];
  CHECK(wrong > 10);
}

TEST_CASE("k-NN similarities are cosines, best first", "[eval][knn]") {
  const Tensor train = Tensor::from({1, 0, 0, 2, 3, 3, -1, 0}, {4, 2});
  const Tensor query = Tensor::from({5, 0}, {1, 2});
  KnnOptions o;
  o.k = 4;
  const Neighbours nb = nearest_neighbours(train, query, o);
  CHECK(nb.index == std::vector<int64_t>{0, 2, 1, 3});
  CHECK(nb.similarity[0] == Approx(1.0));
  CHECK(nb.similarity[1] == Approx(std::sqrt(0.5)));
  CHECK(nb.similarity[2] == Approx(0.0).margin(1e-7));
  CHECK(nb.similarity[3] == Approx(-1.0));
}

TEST_CASE("k-NN refuses k larger than the training set", "[eval][knn]") {
  KnnOptions o;
  o.k = 5;
  CHECK_THROWS_WITH(nearest_neighbours(Tensor::zeros({3, 2}), Tensor::zeros({1, 2}), o),
                    Catch::Contains("k = 5 with 3 training rows"));
}
