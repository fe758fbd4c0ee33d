#include "evaluation/knn.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/progress.h"

namespace imx::eval {

namespace {

// 1 / ||row|| for each row (0 for a zero row, so its similarities are 0).
std::vector<float> inverse_norms(const Tensor& x) {
  const int64_t n = x.size(0), f = x.size(1);
  const float* p = x.data<float>();
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < f; ++j) s += static_cast<double>(p[i * f + j]) * p[i * f + j];
    out[i] = s > 0 ? static_cast<float>(1.0 / std::sqrt(s)) : 0.f;
  }
  return out;
}

}  // namespace

Neighbours nearest_neighbours(const Tensor& train, const Tensor& queries, const KnnOptions& o) {
  check(train.dim() == 2 && queries.dim() == 2 && train.size(1) == queries.size(1), "nearest_neighbours",
        "feature widths differ: train " + train.describe() + ", queries " + queries.describe());
  const int64_t n = train.size(0), q = queries.size(0);
  check(o.k >= 1 && o.k <= n, "nearest_neighbours",
        "k = " + std::to_string(o.k) + " with " + std::to_string(n) + " training rows");
  const std::vector<float> train_inv = inverse_norms(train), query_inv = inverse_norms(queries);
  NoGrad no_grad;
  const Tensor train_dev = train.to(o.device);
  Neighbours nb;
  nb.k = o.k;
  nb.index.resize(q * o.k);
  nb.similarity.resize(q * o.k);
  tools::Progress progress(o.progress_label, static_cast<long>((q + o.block - 1) / o.block), o.progress_seconds);
  long done = 0;
  for (int64_t b = 0; b < q; b += o.block) {
    const int64_t e = std::min(q, b + o.block);
    // [e - b, n] dot products, then cosines by the two norms.
    const Tensor dots = matmul(slice(queries, 0, b, e).to(o.device), train_dev, false, true).to(Device::CPU);
    const float* d = dots.data<float>();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < e - b; ++r) {
      const float* row = d + r * n;
      const float qi = query_inv[b + r];
      // One pass keeping the k best in a heap whose top is the worst kept: most rows are
      // rejected by a single comparison.
      using Candidate = std::pair<float, int64_t>;
      const auto better = [](const Candidate& a, const Candidate& c) {
        return a.first > c.first || (a.first == c.first && a.second < c.second);
      };
      std::vector<Candidate> heap;
      heap.reserve(o.k);
      for (int64_t j = 0; j < n; ++j) {
        const Candidate c{row[j] * qi * train_inv[j], j};
        if (static_cast<int64_t>(heap.size()) < o.k) {
          heap.push_back(c);
          std::push_heap(heap.begin(), heap.end(), better);
        } else if (better(c, heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), better);
          heap.back() = c;
          std::push_heap(heap.begin(), heap.end(), better);
        }
      }
      std::sort(heap.begin(), heap.end(), better);
      for (int64_t j = 0; j < o.k; ++j) {
        nb.index[(b + r) * o.k + j] = heap[j].second;
        nb.similarity[(b + r) * o.k + j] = heap[j].first;
      }
    }
    if (!o.progress_label.empty()) progress.update(++done, static_cast<double>(e));
  }
  return nb;
}

std::vector<int32_t> knn_vote(const Neighbours& nb, const std::vector<int32_t>& train_labels, int64_t classes,
                              double temperature) {
  check(temperature > 0, "knn_vote", "temperature must be > 0, got " + std::to_string(temperature));
  const int64_t q = nb.k ? static_cast<int64_t>(nb.index.size()) / nb.k : 0;
  std::vector<int32_t> out(q);
  std::vector<double> votes(classes);
  for (int64_t i = 0; i < q; ++i) {
    std::fill(votes.begin(), votes.end(), 0.0);
    // Weights relative to the best neighbour: exp((s - s_max)/τ) ranks classes as exp(s/τ) does
    // without overflow.
    const double top = nb.similarity[i * nb.k];
    for (int64_t j = 0; j < nb.k; ++j) {
      const int32_t label = train_labels.at(nb.index[i * nb.k + j]);
      check(label >= 0 && label < classes, "knn_vote", "training label " + std::to_string(label) + " outside [0, " +
                                                           std::to_string(classes) + ")");
      votes[label] += std::exp((nb.similarity[i * nb.k + j] - top) / temperature);
    }
    out[i] = static_cast<int32_t>(std::max_element(votes.begin(), votes.end()) - votes.begin());
  }
  return out;
}

double knn_accuracy(const Labeled& train, const Labeled& test, int64_t classes, const KnnOptions& o) {
  const std::vector<int32_t> predicted =
      knn_vote(nearest_neighbours(train.x, test.x, o), train.labels, classes, o.temperature);
  int64_t hits = 0;
  for (size_t i = 0; i < predicted.size(); ++i) hits += predicted[i] == test.labels[i];
  return predicted.empty() ? 0 : static_cast<double>(hits) / static_cast<double>(predicted.size());
}

}  // namespace imx::eval
