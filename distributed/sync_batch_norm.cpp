#include "distributed/sync_batch_norm.h"

#include "engine/autograd.h"

namespace imx::dist {

Tensor sum_over_ranks(const Tensor& x, Group& g) {
  Tensor out = x.clone();
  all_reduce(out, g, Reduce::sum);
  return record(out, "sum_over_ranks", {x}, [&g](const Tensor& up) {
    Tensor total = up.clone();
    all_reduce(total, g, Reduce::sum);
    return std::vector<Tensor>{total};
  });
}

int synchronize_batch_norm(nn::Module& m, Group& g) {
  int changed = 0;
  for (nn::Module* sub : m.modules())
    if (auto* bn = dynamic_cast<nn::BatchNorm*>(sub)) {
      bn->synchronize_over({[&g](const Tensor& x) { return sum_over_ranks(x, g); }, g.size()});
      ++changed;
    }
  return changed;
}

}  // namespace imx::dist
