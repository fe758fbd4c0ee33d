// An OpenMP loop that lets exceptions out: the first one thrown by any iteration is rethrown
// after the loop (an exception escaping an OpenMP region would terminate the program).
#pragma once
#include <omp.h>

#include <cstdint>
#include <exception>

namespace imx::mi {

// Calls body(thread, i) for every i in [0, n), dynamically scheduled over `threads` threads.
template <class F>
void parallel_for(int threads, int64_t n, F&& body) {
  std::exception_ptr error;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t i = 0; i < n; ++i) {
    try {
      body(omp_get_thread_num(), i);
    } catch (...) {
#pragma omp critical(imx_mi_parallel_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace imx::mi
