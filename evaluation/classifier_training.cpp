#include "evaluation/classifier_training.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "evaluation/rows.h"
#include "engine/progress.h"

namespace imx::eval {

double accuracy(const std::vector<double>& logits, int64_t classes, const std::vector<int32_t>& labels) {
  check(static_cast<int64_t>(logits.size()) == classes * static_cast<int64_t>(labels.size()), "accuracy",
        std::to_string(logits.size()) + " logits for " + std::to_string(labels.size()) + " labels of " +
            std::to_string(classes) + " classes");
  if (labels.empty()) return 0;
  int64_t hits = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double* row = logits.data() + i * classes;
    hits += std::max_element(row, row + classes) - row == labels[i];
  }
  return static_cast<double>(hits) / static_cast<double>(labels.size());
}

double train_and_test(nn::Module& model, const Classifier& forward, const Labeled& train, const Labeled& test,
                      const TrainingOptions& o) {
  const size_t n = train.labels.size();
  check(train.x.size(0) == static_cast<int64_t>(n) && test.x.size(0) == static_cast<int64_t>(test.labels.size()),
        "train_and_test", "features and labels disagree in count");
  check(static_cast<int64_t>(n) >= o.batch && o.batch > 0, "train_and_test",
        std::to_string(n) + " training rows, fewer than one batch of " + std::to_string(o.batch));
  Adam opt(model.parameters(), o.lr);
  MultiStepLR schedule(opt, o.milestones, o.gamma);
  std::vector<uint32_t> order(n);
  std::mt19937_64 rng(o.seed);
  const size_t steps_per_epoch = n / static_cast<size_t>(o.batch);
  tools::Progress progress(o.progress_label, static_cast<long>(o.epochs * steps_per_epoch), o.progress_seconds);
  long step = 0;
  double loss_sum = 0;
  for (int64_t e = 0; e < o.epochs; ++e) {
    schedule.set_epoch(e);
    model.train();
    std::iota(order.begin(), order.end(), 0u);
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t b = 0; b + o.batch <= n; b += o.batch) {
      const std::span<const uint32_t> idx(order.data() + b, static_cast<size_t>(o.batch));
      std::vector<int32_t> labels(idx.size());
      for (size_t i = 0; i < idx.size(); ++i) labels[i] = train.labels[idx[i]];
      opt.zero_grad();
      Tensor loss = cross_entropy(forward(gather_rows(train.x, idx).to(o.device)), labels);
      loss.backward();
      opt.step();
      ++step;
      if (!o.progress_label.empty()) {
        loss_sum += loss.item();
        progress.update(step, static_cast<double>(step) * o.batch,
                        "epoch " + std::to_string(e + 1) + "/" + std::to_string(o.epochs) + " loss " +
                            std::to_string(loss_sum / step).substr(0, 6));
      }
    }
  }
  model.eval();
  NoGrad no_grad;
  std::vector<double> logits;
  const int64_t chunk = 2048, rows = test.x.size(0);
  int64_t classes = 0;
  for (int64_t b = 0; b < rows; b += chunk) {
    const Tensor out = forward(slice(test.x, 0, b, std::min(rows, b + chunk)).to(o.device));
    classes = out.size(1);
    const std::vector<double> part = out.to_vector();
    logits.insert(logits.end(), part.begin(), part.end());
  }
  return accuracy(logits, classes, test.labels);
}

}  // namespace imx::eval
