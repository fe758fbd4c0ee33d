// The Communicator over MPI (Open MPI), for processes started by mpirun: host memory only.
//
// Collectives have no timeout in MPI, so a rank that hangs (deadlocked, stopped, cut off)
// would leave the others waiting forever. A watchdog thread watches the call in flight: when
// one has waited longer than `timeout_seconds`, it prints which call, on which rank, for how
// long, and ends this process with kExitCollectiveTimeout, which makes mpirun end the whole
// job. A rank that dies is noticed by mpirun itself, which ends the others at once.
#pragma once
#include <atomic>
#include <memory>
#include <thread>

#include "distributed/communicator.h"

namespace imx::dist {

// The exit status of a process ended by the watchdog.
inline constexpr int kExitCollectiveTimeout = 5;

// True when this process was started by mpirun (or another MPI launcher) with 2 or more ranks.
bool launched_with_ranks();

class MpiCommunicator final : public Communicator {
 public:
  // Initializes MPI (MPI_THREAD_FUNNELED: only this thread calls MPI); finalized by the
  // destructor. One per process.
  explicit MpiCommunicator(double timeout_seconds = 300);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  Device memory() const override { return Device::CPU; }
  std::string name() const override { return "MPI"; }
  // Ranks on this machine, and this rank's index among them (to pick a GPU, size threads).
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  double timeout_seconds() const { return timeout_; }

  void all_reduce(float* x, std::size_t n, Reduce op) override;
  void all_reduce(double* x, std::size_t n, Reduce op) override;
  void broadcast(void* data, std::size_t bytes, int root) override;
  void all_gather(const void* send, void* recv, std::size_t bytes) override;
  void gather(const void* send, void* recv, std::size_t bytes, int root) override;
  void ring_pass(void* buffer, std::size_t bytes) override;
  void barrier() override;
  void idle_barrier() override;

 private:
  class Watch;  // marks a call in flight for the watchdog
  void watchdog();

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  double timeout_;
  std::atomic<const char*> in_flight_{nullptr};
  std::atomic<int64_t> started_ns_{0};
  std::atomic<bool> stopping_{false};
  std::thread watchdog_;
};

}  // namespace imx::dist
