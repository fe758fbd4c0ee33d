#include "bench/engine/step_flops.h"

namespace imx::bench {

namespace {

// A linear layer on `rows` rows, forward and both gradients: three products of one size.
FlopTerm linear_term(const std::string& what, double rows, double in, double out) {
  return {what + " fwd+bwd (3 products)", 3 * 2.0 * rows * in * out};
}

// The dot critic's block (models/critics.h): hidden in->U, out U->U, shortcut in->U.
void critic_block(std::vector<FlopTerm>& out, const std::string& what, double rows, double in, double units) {
  out.push_back(linear_term(what + " hidden", rows, in, units));
  out.push_back(linear_term(what + " out", rows, units, units));
  out.push_back(linear_term(what + " shortcut", rows, in, units));
}

}  // namespace

std::vector<FlopTerm> dim_l_step_flops(const models::EncoderSpec& spec, int64_t batch, int64_t units) {
  std::vector<FlopTerm> out;
  const double n = double(batch);
  int64_t channels = spec.channels, size = spec.size, local_channels = 0, local_size = 0;
  for (size_t i = 0; i < spec.convs.size(); ++i) {
    const auto& c = spec.convs[i];
    const int64_t ho = (size + 2 * c.pad - c.kernel) / c.stride + 1;
    const double product = 2.0 * n * c.out * ho * ho * channels * c.kernel * c.kernel;
    const int products = i == 0 ? 2 : 3;  // the images need no gradient
    out.push_back({"conv" + std::to_string(i) + " fwd+bwd (" + std::to_string(products) + " products)",
                   products * product});
    channels = c.out;
    size = c.pool ? (ho - c.pool) / c.pool_stride + 1 : ho;
    if (int64_t(i) == spec.local_layer) local_channels = channels, local_size = size;
  }
  double width = double(channels * size * size);
  for (size_t i = 0; i < spec.fcs.size(); ++i) {
    out.push_back(linear_term("fc" + std::to_string(i), n, width, double(spec.fcs[i])));
    width = double(spec.fcs[i]);
  }
  out.push_back(linear_term("y", n, width, double(spec.y_dim)));
  const double locations = double(local_size * local_size);
  critic_block(out, "critic local", n * locations, double(local_channels), double(units));
  critic_block(out, "critic global", n, double(spec.y_dim), double(units));
  out.push_back({"MI loss (3 products)", 6.0 * n * (n * locations) * double(units)});
  return out;
}

double total_flops(const std::vector<FlopTerm>& terms) {
  double s = 0;
  for (const auto& t : terms) s += t.flops;
  return s;
}

}  // namespace imx::bench
