#include "evaluation/linear_probe.h"

#include "evaluation/standardize.h"

namespace imx::eval {

double linear_probe_accuracy(const Labeled& train, const Labeled& test, int64_t classes, const TrainingOptions& o) {
  Generator gen(o.seed);
  nn::Linear layer(train.x.size(1), classes, true, gen);
  layer.to(o.device);
  Standardizer scale = Standardizer::fit(train.x);
  scale.to(o.device);
  return train_and_test(layer, [&](const Tensor& x) { return layer.forward(scale.apply(x)); }, train, test, o);
}

}  // namespace imx::eval
