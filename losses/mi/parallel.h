// An OpenMP loop with a fixed assignment of iterations to accumulator slots, that lets
// exceptions out: the first one thrown by any iteration is rethrown after the loop (an exception
// escaping an OpenMP region would terminate the program).
#pragma once
#include <omp.h>

#include <cstdint>
#include <exception>

namespace imx::mi {

// Calls body(slot, i) for every i in [0, n): slot s in [0, slots) takes the contiguous chunk
// [n*s/slots, n*(s+1)/slots) in increasing order. The slot -> iterations map depends on n and
// slots only, never on timing or on how many threads the runtime grants (a thread may run
// several slots, one after the other), so per-slot partial sums merged in slot order give the
// same bits on every run with the same slot count. The MI kernels' iterations are equal-sized
// tiles or bands, so equal chunks also balance the work.
template <class F>
void parallel_for(int slots, int64_t n, F&& body) {
  std::exception_ptr error;
#pragma omp parallel for num_threads(slots) schedule(static, 1)
  for (int s = 0; s < slots; ++s) {
    try {
      for (int64_t i = n * s / slots, end = n * (s + 1) / slots; i < end; ++i) body(s, i);
    } catch (...) {
#pragma omp critical(imx_mi_parallel_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace imx::mi
