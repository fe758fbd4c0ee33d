#pragma once
// parallel_for over [0, n) on plain threads. If several iterations throw, the exception of the
// lowest index is rethrown, so the reported error does not depend on scheduling.
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace imx::data::detail {

template <class Body>
void parallel_for(std::size_t n, unsigned threads, Body&& body) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, n));
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  std::size_t error_index = n;
  auto run = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        body(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (i < error_index) {
          error_index = i;
          error = std::current_exception();
        }
      }
    }
  };
  if (threads <= 1) {
    run();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(run);
    for (auto& thread : pool) thread.join();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace imx::data::detail
