// NCCL without the CUDA toolkit: nothing to load it for.
#include "distributed/nccl_communicator.h"

namespace imx::dist {

std::string nccl_unavailable_reason() { return "infomax was built without CUDA"; }

std::unique_ptr<Communicator> make_nccl_communicator(Communicator&) {
  throw Error("NCCL: " + nccl_unavailable_reason());
}

}  // namespace imx::dist
