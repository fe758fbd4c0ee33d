// The Communicator over NCCL, for CUDA tensors: device memory, every call enqueued on the CUDA
// backend's stream (ordered with the kernels around it, no host synchronization).
//
// NCCL is loaded at run time (dlopen of libnccl.so.2, or IMX_NCCL_LIBRARY), so that infomax
// builds without NCCL's headers and uses whichever NCCL the machine has (a Debian package, or
// the library inside a PyTorch wheel). The communicator is bootstrapped through MPI: rank 0
// makes NCCL's unique id and broadcasts it.
#pragma once
#include <memory>
#include <string>

#include "distributed/communicator.h"

namespace imx::dist {

// Why NCCL cannot be used here, or "" when it can (the library loads and has every symbol).
std::string nccl_unavailable_reason();

// Builds the NCCL communicator of the ranks of `bootstrap` (one GPU each: the CUDA backend's
// device). Throws Error naming the missing library or the failing NCCL call.
std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap);

}  // namespace imx::dist
