#include "distributed/group.h"

#include <cstdlib>
#include <string>

#include "distributed/mpi_communicator.h"
#include "distributed/nccl_communicator.h"

namespace imx::dist {

std::unique_ptr<Group> Group::create(Device device, double timeout_seconds) {
  if (!launched_with_ranks())
    return std::make_unique<Group>(std::make_unique<SingleProcess>(), nullptr, 0, 1);
  auto mpi = std::make_unique<MpiCommunicator>(timeout_seconds);
  const int local_rank = mpi->local_rank(), local_size = mpi->local_size();
  std::unique_ptr<Communicator> nccl;
  const char* nccl_env = std::getenv("IMX_DIST_NCCL");
  const bool nccl_off = nccl_env && std::string(nccl_env) == "0";
  if (device == Device::CUDA) {
    // Before the CUDA backend exists: it reads the device once, when it is built.
    if (!std::getenv("IMX_CUDA_DEVICE")) setenv("IMX_CUDA_DEVICE", std::to_string(local_rank).c_str(), 1);
    if (!nccl_off) nccl = make_nccl_communicator(*mpi);
  }
  return std::make_unique<Group>(std::move(mpi), std::move(nccl), local_rank, local_size);
}

Group::Group(std::unique_ptr<Communicator> host, std::unique_ptr<Communicator> device, int local_rank, int local_size)
    : host_(std::move(host)), device_(std::move(device)), local_rank_(local_rank), local_size_(local_size) {}

Group::~Group() = default;

Communicator& Group::for_memory(Device memory) {
  if (device_ && device_->memory() == memory) return *device_;
  return *host_;
}

std::string Group::describe() const {
  if (size() == 1) return "1 rank";
  return std::to_string(size()) + " ranks (" + host_->name() + (device_ ? " + " + device_->name() : "") + ")";
}

namespace {

// Runs f(communicator, tensor) on t's memory when the communicator can reach it, else on a host
// copy that is written back.
template <class F>
void on_reachable(Tensor& t, Group& g, bool write_back, F&& f) {
  Communicator& c = g.for_memory(t.device());
  if (c.memory() == t.device()) return f(c, t);
  Tensor host = t.to(Device::CPU);
  f(c, host);
  if (write_back) t.copy_from(host);
}

}  // namespace

void all_reduce(Tensor& t, Group& g, Reduce op) {
  if (g.size() == 1) return;
  on_reachable(t, g, true, [&](Communicator& c, Tensor& x) {
    if (x.dtype() == DType::F32)
      c.all_reduce(x.data<float>(), x.numel(), op);
    else
      c.all_reduce(x.data<double>(), x.numel(), op);
  });
}

void broadcast(Tensor& t, Group& g, int root) {
  if (g.size() == 1) return;
  on_reachable(t, g, true, [&](Communicator& c, Tensor& x) { c.broadcast(x.raw(), x.nbytes(), root); });
}

Tensor all_gather(const Tensor& t, Group& g) {
  check(t.dim() >= 1, "all_gather", "needs a batch axis, got " + t.describe());
  Shape shape = t.shape();
  shape[0] *= g.size();
  Communicator& c = g.for_memory(t.device());
  const Device where = c.memory() == t.device() ? t.device() : Device::CPU;
  const Tensor send = t.device() == where ? t : t.to(where);
  Tensor out = Tensor::empty(shape, t.dtype(), where);
  c.all_gather(send.raw(), out.raw(), send.nbytes());
  return where == t.device() ? out : out.to(t.device());
}

}  // namespace imx::dist
