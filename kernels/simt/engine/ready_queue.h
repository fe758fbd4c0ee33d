// The GPU threads of a block that can run now, handed out in the configured schedule order.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kernels/simt/emu/config.h"

namespace imx::simt::detail {

// splitmix64: tiny, fast, and good enough to scramble thread order from a seed.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class ReadyQueue {
 public:
  void reset(Schedule::Order order, std::uint64_t seed) {
    order_ = order;
    state_ = seed;
    items_.clear();
    head_ = 0;
  }
  // Threads released together are pushed in ascending id order; in reverse mode the
  // caller pushes them descending (see push_release_order).
  void push(std::uint32_t thread) { items_.push_back(thread); }
  bool descending() const { return order_ == Schedule::Order::Reverse; }

  std::optional<std::uint32_t> pop() {
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
      return std::nullopt;
    }
    if (order_ == Schedule::Order::Random) {
      state_ = mix64(state_);
      const std::size_t pick = head_ + static_cast<std::size_t>(state_ % (items_.size() - head_));
      std::swap(items_[head_], items_[pick]);
    }
    return items_[head_++];
  }

 private:
  std::vector<std::uint32_t> items_;
  std::size_t head_ = 0;
  Schedule::Order order_ = Schedule::Order::InOrder;
  std::uint64_t state_ = 0;
};

}  // namespace imx::simt::detail
