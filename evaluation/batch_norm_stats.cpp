#include "evaluation/batch_norm_stats.h"

#include <vector>

#include "engine/autograd.h"

namespace imx::eval {

int64_t estimate_batch_norm_statistics(models::Encoder& encoder, const data::Dataset& d, BatchOptions o) {
  check(static_cast<int64_t>(d.size()) >= o.batch, "estimate_batch_norm_statistics",
        d.name + ": " + std::to_string(d.size()) + " images, fewer than one batch of " + std::to_string(o.batch));
  if (o.resize_to == 0) o.resize_to = resize_for(d, encoder.spec().size);
  o.drop_last = true;
  std::vector<nn::BatchNorm*> norms;
  for (nn::Module* m : encoder.modules())
    if (auto* bn = dynamic_cast<nn::BatchNorm*>(m)) norms.push_back(bn);
  std::vector<double> momenta;
  for (auto* bn : norms) momenta.push_back(bn->momentum());

  encoder.train();
  NoGrad no_grad;
  int64_t k = 0;
  for_each_batch(d, o, [&](const Tensor& x, const std::vector<int32_t>&) {
    for (auto* bn : norms) bn->set_momentum(1.0 / static_cast<double>(k + 1));
    encoder.forward(x);
    ++k;
  });
  for (size_t i = 0; i < norms.size(); ++i) norms[i]->set_momentum(momenta[i]);
  encoder.eval();
  return k;
}

}  // namespace imx::eval
