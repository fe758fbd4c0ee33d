#include "evaluation/baselines.h"

namespace imx::eval {

std::unique_ptr<models::DeepInfoMax> untrained_copy(const models::DeepInfoMax& trained, Device device) {
  auto model = std::make_unique<models::DeepInfoMax>(trained.config());
  model->to(device);
  model->eval();
  return model;
}

}  // namespace imx::eval
