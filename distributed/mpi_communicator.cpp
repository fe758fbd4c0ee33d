#include "distributed/mpi_communicator.h"

#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace imx::dist {

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string(call) + " failed: " + std::string(text, len));
}

// MPI counts are ints: long buffers go in pieces of at most 1 GiB.
constexpr std::size_t kPiece = std::size_t(1) << 30;

template <class F>
void in_pieces(std::size_t bytes, std::size_t elem, F&& f) {
  const std::size_t step = kPiece / elem;
  for (std::size_t off = 0, n = bytes / elem; off < n; off += step) f(off, static_cast<int>(std::min(step, n - off)));
}

}  // namespace

bool launched_with_ranks() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(var)) return std::atoi(v) >= 2;
  return false;
}

class MpiCommunicator::Watch {
 public:
  Watch(MpiCommunicator& c, const char* what) : c_(c) {
    c_.started_ns_.store(now_ns());
    c_.in_flight_.store(what);
  }
  ~Watch() { c_.in_flight_.store(nullptr); }

 private:
  MpiCommunicator& c_;
};

MpiCommunicator::MpiCommunicator(double timeout_seconds) : timeout_(timeout_seconds) {
  if (!(timeout_seconds > 0)) throw Error("MPI: the collective timeout must be > 0 s, got " + std::to_string(timeout_seconds));
  int provided = 0;
  check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as return codes (turned into exceptions), not as an abort inside MPI.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local;
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local), "MPI_Comm_split_type");
  MPI_Comm_rank(local, &local_rank_);
  MPI_Comm_size(local, &local_size_);
  MPI_Comm_free(&local);
  watchdog_ = std::thread([this] { watchdog(); });
}

MpiCommunicator::~MpiCommunicator() {
  stopping_.store(true);
  watchdog_.join();
  MPI_Finalize();
}

void MpiCommunicator::watchdog() {
  const auto limit_ns = static_cast<int64_t>(timeout_ * 1e9);
  while (!stopping_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const char* what = in_flight_.load();
    const int64_t waited = now_ns() - started_ns_.load();
    if (what == nullptr || waited < limit_ns) continue;
    std::fprintf(stderr,
                 "infomax: rank %d of %d: %s has waited %.0f s for the other ranks (collective timeout %.0f s): "
                 "another rank died, hangs or is far behind; ending the job (exit %d)\n",
                 rank_, size_, what, waited / 1e9, timeout_, kExitCollectiveTimeout);
    std::fflush(stderr);
    std::_Exit(kExitCollectiveTimeout);  // mpirun then ends every other rank
  }
}

namespace {

template <class T>
void all_reduce_in_place(T* x, std::size_t n, MPI_Datatype type, Reduce op) {
  in_pieces(n * sizeof(T), sizeof(T), [&](std::size_t off, int count) {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, x + off, count, type, op == Reduce::sum ? MPI_SUM : MPI_MAX, MPI_COMM_WORLD),
              "MPI_Allreduce");
  });
}

}  // namespace

void MpiCommunicator::all_reduce(float* x, std::size_t n, Reduce op) {
  Watch w(*this, "MPI_Allreduce");
  all_reduce_in_place(x, n, MPI_FLOAT, op);
}

void MpiCommunicator::all_reduce(double* x, std::size_t n, Reduce op) {
  Watch w(*this, "MPI_Allreduce");
  all_reduce_in_place(x, n, MPI_DOUBLE, op);
}

void MpiCommunicator::broadcast(void* data, std::size_t bytes, int root) {
  Watch w(*this, "MPI_Bcast");
  in_pieces(bytes, 1, [&](std::size_t off, int count) {
    check_mpi(MPI_Bcast(static_cast<char*>(data) + off, count, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  });
}

void MpiCommunicator::all_gather(const void* send, void* recv, std::size_t bytes) {
  Watch w(*this, "MPI_Allgather");
  if (bytes > kPiece) throw Error("MPI_Allgather: " + std::to_string(bytes) + " bytes per rank is over 1 GiB");
  check_mpi(MPI_Allgather(send, static_cast<int>(bytes), MPI_BYTE, recv, static_cast<int>(bytes), MPI_BYTE,
                          MPI_COMM_WORLD),
            "MPI_Allgather");
}

void MpiCommunicator::gather(const void* send, void* recv, std::size_t bytes, int root) {
  Watch w(*this, "MPI_Gather");
  if (bytes > kPiece) throw Error("MPI_Gather: " + std::to_string(bytes) + " bytes per rank is over 1 GiB");
  check_mpi(MPI_Gather(send, static_cast<int>(bytes), MPI_BYTE, recv, static_cast<int>(bytes), MPI_BYTE, root,
                       MPI_COMM_WORLD),
            "MPI_Gather");
}

void MpiCommunicator::ring_pass(void* buffer, std::size_t bytes) {
  Watch w(*this, "MPI_Sendrecv_replace (ring)");
  const int next = (rank_ + 1) % size_, prev = (rank_ + size_ - 1) % size_;
  in_pieces(bytes, 1, [&](std::size_t off, int count) {
    check_mpi(MPI_Sendrecv_replace(static_cast<char*>(buffer) + off, count, MPI_BYTE, next, 7, prev, 7,
                                   MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Sendrecv_replace");
  });
}

void MpiCommunicator::idle_barrier() {
  // MPI's own waits poll a core at full speed; this one tests every few milliseconds.
  MPI_Request request;
  check_mpi(MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier");
  for (int done = 0;;) {
    check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void MpiCommunicator::barrier() {
  Watch w(*this, "MPI_Barrier");
  check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

}  // namespace imx::dist
