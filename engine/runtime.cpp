#include "engine/runtime.h"

#include <unistd.h>

#include <cstdlib>

namespace imx {

void prefer_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;  // the user's choice, or already re-executed
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  ::execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with the default policy.
}

}  // namespace imx
