#include "evaluation/mlp_probe.h"

#include "models/critics.h"

namespace imx::eval {

double mlp_probe_accuracy(const Labeled& train, const Labeled& test, int64_t classes, const TrainingOptions& o) {
  Generator gen(o.seed);
  models::Probe probe(train.x.size(1), classes, gen, o.seed + 1);
  probe.to(o.device);
  return train_and_test(probe, [&](const Tensor& x) { return probe.forward(x); }, train, test, o);
}

}  // namespace imx::eval
