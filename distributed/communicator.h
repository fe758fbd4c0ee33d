// A group of ranks (processes) that exchange data: the only interface the data-parallel code
// uses, so the same training code runs over MPI (host memory, CPU tensors and every small
// exchange) and over NCCL (device memory, CUDA tensors). Every rank must make the same calls in
// the same order; each call returns when this rank's part is done.
#pragma once
#include <cstddef>
#include <string>

#include "engine/core.h"

namespace imx::dist {

enum class Reduce { sum, max };

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Where the buffers of every call must live: Device::CPU for MPI, Device::CUDA for NCCL.
  virtual Device memory() const = 0;
  virtual std::string name() const = 0;  // "MPI", "NCCL" or "single process"

  // x[i] := op over every rank of x[i], in place.
  virtual void all_reduce(float* x, std::size_t n, Reduce op) = 0;
  virtual void all_reduce(double* x, std::size_t n, Reduce op) = 0;
  // root's `bytes` bytes of `data` to every rank.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  // recv (size() * bytes) := every rank's `bytes` bytes of send, in rank order.
  virtual void all_gather(const void* send, void* recv, std::size_t bytes) = 0;
  // On root only, recv (size() * bytes) := every rank's `bytes` bytes of send, in rank order.
  virtual void gather(const void* send, void* recv, std::size_t bytes, int root) = 0;
  // Sends `bytes` bytes of `buffer` to rank + 1 and replaces them with those of rank - 1.
  virtual void ring_pass(void* buffer, std::size_t bytes) = 0;
  virtual void barrier() = 0;
  // A barrier for ranks that wait while another works alone for a long time (rank 0 training
  // probes): no timeout, and the waiting ranks sleep instead of polling a core.
  virtual void idle_barrier() { barrier(); }
};

// One rank alone: every call is the identity. What dim-train uses outside mpirun.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  Device memory() const override { return Device::CPU; }
  std::string name() const override { return "single process"; }
  void all_reduce(float*, std::size_t, Reduce) override {}
  void all_reduce(double*, std::size_t, Reduce) override {}
  void broadcast(void*, std::size_t, int) override {}
  void all_gather(const void* send, void* recv, std::size_t bytes) override;
  void gather(const void* send, void* recv, std::size_t bytes, int) override { all_gather(send, recv, bytes); }
  void ring_pass(void*, std::size_t) override {}
  void barrier() override {}
};

}  // namespace imx::dist
