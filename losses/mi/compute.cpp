// Runtime choice of implementation (used by dim-mi and dim-bench).
#include <stdexcept>
#include <string>

#include "losses/mi/mi.h"

namespace imx::mi {

template <class T>
T compute(Impl impl, const Problem& pb, Estimator e, const T* local, const T* global,
          Gradients<T> grads, const Options& opt) {
  switch (impl) {
    case Impl::naive: return naive<T>(pb, e, local, global, grads, opt);
    case Impl::unfused: return unfused<T>(pb, e, local, global, grads, opt);
    case Impl::fused: return fused<T>(pb, e, local, global, grads, opt);
  }
  throw std::invalid_argument("mi: unknown Impl value " + std::to_string(static_cast<int>(impl)));
}

std::size_t extra_bytes(Impl impl, const Problem& pb, Estimator e, std::size_t elem_bytes,
                        bool with_grads, const Options& opt) {
  switch (impl) {
    case Impl::naive: return naive_bytes(pb, e, elem_bytes, with_grads, opt);
    case Impl::unfused: return unfused_bytes(pb, e, elem_bytes, with_grads, opt);
    case Impl::fused: return fused_bytes(pb, e, elem_bytes, with_grads, opt);
  }
  throw std::invalid_argument("mi: unknown Impl value " + std::to_string(static_cast<int>(impl)));
}

template float compute<float>(Impl, const Problem&, Estimator, const float*, const float*,
                              Gradients<float>, const Options&);
template double compute<double>(Impl, const Problem&, Estimator, const double*, const double*,
                                Gradients<double>, const Options&);

}  // namespace imx::mi
