#include "tools/train/errors.h"

#include "imx/data/error.hpp"

namespace imx::train {

int exit_status(const std::exception& e) {
  if (auto* i = dynamic_cast<const Interrupted*>(&e)) return 128 + i->signal;
  if (dynamic_cast<const UsageError*>(&e)) return kExitUsage;
  if (dynamic_cast<const InputError*>(&e) || dynamic_cast<const data::DataError*>(&e)) return kExitBadInput;
  if (dynamic_cast<const DivergedError*>(&e)) return kExitDiverged;
  return kExitFailure;
}

}  // namespace imx::train
