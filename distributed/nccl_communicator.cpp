#include "distributed/nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include "engine/backend.h"
#include "engine/cuda/cuda_backend.h"

namespace imx::dist {

namespace {

CudaBackend& cuda() { return static_cast<CudaBackend&>(backend(Device::CUDA)); }

// The part of NCCL's C API used here, declared from its documented ABI (types, enum values and
// signatures), so that no NCCL header is needed to build.
using nccl_result = int;  // ncclResult_t: 0 = ncclSuccess
using nccl_comm = struct nccl_comm_opaque*;
struct nccl_unique_id {
  char internal[128];
};
enum nccl_type : int { kNcclFloat32 = 7, kNcclFloat64 = 8, kNcclUint8 = 1 };
enum nccl_op : int { kNcclSum = 0, kNcclMax = 2 };

struct Nccl {
  nccl_result (*get_unique_id)(nccl_unique_id*);
  nccl_result (*comm_init_rank)(nccl_comm*, int, nccl_unique_id, int);
  nccl_result (*comm_destroy)(nccl_comm);
  nccl_result (*all_reduce)(const void*, void*, size_t, int, int, nccl_comm, cudaStream_t);
  nccl_result (*broadcast)(const void*, void*, size_t, int, int, nccl_comm, cudaStream_t);
  nccl_result (*all_gather)(const void*, void*, size_t, int, nccl_comm, cudaStream_t);
  nccl_result (*send)(const void*, size_t, int, int, nccl_comm, cudaStream_t);
  nccl_result (*recv)(void*, size_t, int, int, nccl_comm, cudaStream_t);
  nccl_result (*group_start)();
  nccl_result (*group_end)();
  const char* (*error_string)(nccl_result);
};

// Loaded once; `why` says what is missing when it could not be.
const Nccl* load_nccl(std::string* why) {
  static std::string reason;
  static const Nccl* nccl = [] () -> const Nccl* {
    const char* env = std::getenv("IMX_NCCL_LIBRARY");
    const char* name = env && *env ? env : "libnccl.so.2";
    void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      reason = std::string("cannot load ") + name + " (" + dlerror() +
               "); install NCCL or point IMX_NCCL_LIBRARY at libnccl.so.2";
      return nullptr;
    }
    static Nccl n;
    bool ok = true;
    auto sym = [&](auto& fn, const char* symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, symbol));
      if (!fn && ok) reason = std::string(name) + " has no symbol " + symbol, ok = false;
    };
    sym(n.get_unique_id, "ncclGetUniqueId");
    sym(n.comm_init_rank, "ncclCommInitRank");
    sym(n.comm_destroy, "ncclCommDestroy");
    sym(n.all_reduce, "ncclAllReduce");
    sym(n.broadcast, "ncclBroadcast");
    sym(n.all_gather, "ncclAllGather");
    sym(n.send, "ncclSend");
    sym(n.recv, "ncclRecv");
    sym(n.group_start, "ncclGroupStart");
    sym(n.group_end, "ncclGroupEnd");
    sym(n.error_string, "ncclGetErrorString");
    return ok ? &n : nullptr;
  }();
  if (!nccl && why) *why = reason;
  return nccl;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(const Nccl& nccl, Communicator& bootstrap)
      : nccl_(nccl), rank_(bootstrap.rank()), size_(bootstrap.size()), stream_(cuda().stream()) {
    nccl_unique_id id{};
    if (rank_ == 0) check(nccl_.get_unique_id(&id), "ncclGetUniqueId");
    bootstrap.broadcast(&id, sizeof id, 0);
    check(nccl_.comm_init_rank(&comm_, size_, id, rank_), "ncclCommInitRank");
  }
  ~NcclCommunicator() override {
    if (comm_) nccl_.comm_destroy(comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  Device memory() const override { return Device::CUDA; }
  std::string name() const override { return "NCCL"; }

  void all_reduce(float* x, std::size_t n, Reduce op) override {
    check(nccl_.all_reduce(x, x, n, kNcclFloat32, nccl_op_of(op), comm_, stream_), "ncclAllReduce");
  }
  void all_reduce(double* x, std::size_t n, Reduce op) override {
    check(nccl_.all_reduce(x, x, n, kNcclFloat64, nccl_op_of(op), comm_, stream_), "ncclAllReduce");
  }
  void broadcast(void* data, std::size_t bytes, int root) override {
    check(nccl_.broadcast(data, data, bytes, kNcclUint8, root, comm_, stream_), "ncclBroadcast");
  }
  void all_gather(const void* send, void* recv, std::size_t bytes) override {
    check(nccl_.all_gather(send, recv, bytes, kNcclUint8, comm_, stream_), "ncclAllGather");
  }
  void gather(const void* send, void* recv, std::size_t bytes, int root) override {
    check(nccl_.group_start(), "ncclGroupStart");
    check(nccl_.send(send, bytes, kNcclUint8, root, comm_, stream_), "ncclSend");
    if (rank_ == root)
      for (int r = 0; r < size_; ++r)
        check(nccl_.recv(static_cast<char*>(recv) + r * bytes, bytes, kNcclUint8, r, comm_, stream_), "ncclRecv");
    check(nccl_.group_end(), "ncclGroupEnd");
  }
  void ring_pass(void* buffer, std::size_t bytes) override {
    // NCCL cannot send and receive into one buffer: receive into scratch, then copy back.
    auto scratch = cuda().allocate(bytes);
    check(nccl_.group_start(), "ncclGroupStart");
    check(nccl_.send(buffer, bytes, kNcclUint8, (rank_ + 1) % size_, comm_, stream_), "ncclSend");
    check(nccl_.recv(scratch.get(), bytes, kNcclUint8, (rank_ + size_ - 1) % size_, comm_, stream_), "ncclRecv");
    check(nccl_.group_end(), "ncclGroupEnd");
    if (cudaMemcpyAsync(buffer, scratch.get(), bytes, cudaMemcpyDeviceToDevice, stream_) != cudaSuccess)
      throw Error("NCCL ring pass: cudaMemcpyAsync failed");
  }
  void barrier() override {
    if (cudaStreamSynchronize(stream_) != cudaSuccess) throw Error("NCCL barrier: cudaStreamSynchronize failed");
  }

 private:
  static int nccl_op_of(Reduce op) { return op == Reduce::sum ? kNcclSum : kNcclMax; }
  void check(nccl_result rc, const char* call) const {
    if (rc != 0) throw Error(std::string(call) + " failed on rank " + std::to_string(rank_) + ": " + nccl_.error_string(rc));
  }
  const Nccl& nccl_;
  int rank_, size_;
  cudaStream_t stream_;
  nccl_comm comm_ = nullptr;
};

}  // namespace

std::string nccl_unavailable_reason() {
  std::string why;
  return load_nccl(&why) ? std::string() : why;
}

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap) {
  std::string why;
  const Nccl* nccl = load_nccl(&why);
  if (!nccl) throw Error("NCCL: " + why);
  return std::make_unique<NcclCommunicator>(*nccl, bootstrap);
}

}  // namespace imx::dist
