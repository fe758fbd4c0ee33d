#include "distributed/data_parallel.h"

#include <cstring>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace imx::dist {

void broadcast_state(nn::Module& m, Group& g, int root) {
  if (g.size() == 1) return;
  for (auto& [name, t] : m.named_parameters()) broadcast(t, g, root);
  for (auto& [name, t] : m.named_buffers()) broadcast(t, g, root);
}

namespace {

// One bucket: the gradients of params[begin, end) flattened into one tensor, averaged, and
// handed back as fresh tensors (a .grad may share storage with a tensor of the finished graph,
// so it is replaced rather than written in place).
void average_bucket(const std::vector<Tensor>& params, size_t begin, size_t end, Group& g) {
  NoGrad no_grad;
  std::vector<Tensor> flat;
  for (size_t i = begin; i < end; ++i) {
    const Tensor& p = params[i];
    const Tensor grad = p.grad().defined() ? p.grad() : Tensor::zeros(p.shape(), p.dtype(), p.device());
    flat.push_back(reshape(grad, {grad.numel()}));
  }
  Tensor bucket = flat.size() == 1 ? flat[0].clone() : concat(flat, 0);
  all_reduce(bucket, g, Reduce::sum);
  bucket = scale(bucket, 1.0 / g.size());
  int64_t offset = 0;
  for (size_t i = begin; i < end; ++i) {
    const Tensor& p = params[i];
    const Tensor part = reshape(slice(bucket, 0, offset, offset + p.numel()), p.shape());
    offset += p.numel();
    p.impl().grad = part.impl_ptr();
  }
}

}  // namespace

void average_gradients(const std::vector<Tensor>& params, Group& g, std::size_t bucket_bytes) {
  if (g.size() == 1) return;
  size_t begin = 0, bytes = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const bool dtype_change = i > begin && params[i].dtype() != params[begin].dtype();
    const bool device_change = i > begin && params[i].device() != params[begin].device();
    if (dtype_change || device_change || (i > begin && bytes + params[i].nbytes() > bucket_bytes)) {
      average_bucket(params, begin, i, g);
      begin = i, bytes = 0;
    }
    bytes += params[i].nbytes();
  }
  if (begin < params.size()) average_bucket(params, begin, params.size(), g);
}

void average_buffers(nn::Module& m, Group& g) {
  if (g.size() == 1) return;
  NoGrad no_grad;
  for (auto& [name, t] : m.named_buffers()) {
    Tensor sum = t.clone();
    all_reduce(sum, g, Reduce::sum);
    t.copy_from(scale(sum, 1.0 / g.size()));
  }
}

uint64_t state_digest(const nn::Module& m) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto add = [&](const Tensor& t) {
    const std::vector<double> v = t.to_vector();  // exact: float32 -> double is lossless
    for (double x : v) {
      uint64_t bits;
      std::memcpy(&bits, &x, sizeof bits);
      for (int k = 0; k < 8; ++k) h = (h ^ ((bits >> (8 * k)) & 0xff)) * 1099511628211ull;
    }
  };
  for (const auto& [name, t] : m.named_parameters()) add(t);
  for (const auto& [name, t] : m.named_buffers()) add(t);
  return h;
}

bool same_on_every_rank(const nn::Module& m, Group& g) {
  const uint64_t mine = state_digest(m);
  std::vector<uint64_t> all(g.size());
  g.host().all_gather(&mine, all.data(), sizeof mine);
  for (uint64_t d : all)
    if (d != all[0]) return false;
  return true;
}

}  // namespace imx::dist
