// The ranks of one data-parallel run: the host communicator (MPI under mpirun, otherwise a
// single process) and, for CUDA tensors, NCCL. Tensor-level collectives pick the communicator
// whose memory is the tensor's, or stage through the host.
#pragma once
#include <memory>

#include "distributed/communicator.h"
#include "engine/tensor.h"

namespace imx::dist {

class Group {
 public:
  // Outside mpirun (or with one rank): a single process. Under mpirun with >= 2 ranks: MPI with
  // collectives that end the job after `timeout_seconds` (mpi_communicator.h); with
  // Device::CUDA also NCCL, each rank on GPU (local rank) unless IMX_CUDA_DEVICE says otherwise.
  // IMX_DIST_NCCL=0: no NCCL, CUDA tensors travel through the host over MPI (several ranks on
  // one GPU, which NCCL refuses).
  static std::unique_ptr<Group> create(Device device, double timeout_seconds);
  // A group over given communicators (tests).
  Group(std::unique_ptr<Communicator> host, std::unique_ptr<Communicator> device, int local_rank, int local_size);
  ~Group();

  int rank() const { return host_->rank(); }
  int size() const { return host_->size(); }
  bool is_root() const { return rank() == 0; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  Communicator& host() { return *host_; }
  // The communicator for buffers in `memory`: NCCL for CUDA when there is one, else the host's.
  Communicator& for_memory(Device memory);
  std::string describe() const;  // e.g. "2 ranks (MPI)", "4 ranks (MPI + NCCL)"

 private:
  std::unique_ptr<Communicator> host_, device_;
  int local_rank_, local_size_;
};

// In place, on every rank: t := op over ranks of t (float32 or float64, any device).
void all_reduce(Tensor& t, Group& g, Reduce op = Reduce::sum);
// In place: root's values of t to every rank.
void broadcast(Tensor& t, Group& g, int root = 0);
// [N * b, ...]: every rank's t ([b, ...], the same shape on each), in rank order. No autograd.
Tensor all_gather(const Tensor& t, Group& g);

}  // namespace imx::dist
