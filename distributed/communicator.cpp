#include "distributed/communicator.h"

#include <cstring>

namespace imx::dist {

void SingleProcess::all_gather(const void* send, void* recv, std::size_t bytes) {
  if (send != recv) std::memmove(recv, send, bytes);
}

}  // namespace imx::dist
