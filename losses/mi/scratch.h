// Scratch buffers whose bytes are counted, so that each implementation reports the peak extra
// memory it really allocated (the benchmark prints it; tests check it against the formulas).
#pragma once
#include <algorithm>
#include <cstddef>
#include <memory>

namespace imx::mi {

class MemoryMeter {
 public:
  void allocated(std::size_t bytes) {
    current_ += bytes;
    peak_ = std::max(peak_, current_);
  }
  void released(std::size_t bytes) { current_ -= bytes; }
  std::size_t peak() const { return peak_; }

 private:
  std::size_t current_ = 0;
  std::size_t peak_ = 0;
};

// An uninitialized array of n elements, counted by a meter for its lifetime.
template <class U>
class Scratch {
 public:
  Scratch() = default;
  Scratch(MemoryMeter& meter, std::size_t n)
      : data_(n ? new U[n] : nullptr), n_(n), meter_(&meter) {
    meter_->allocated(n_ * sizeof(U));
  }
  Scratch(Scratch&& o) noexcept { *this = std::move(o); }
  Scratch& operator=(Scratch&& o) noexcept {
    release();
    data_ = std::move(o.data_);
    n_ = o.n_;
    meter_ = o.meter_;
    o.n_ = 0;
    o.meter_ = nullptr;
    return *this;
  }
  ~Scratch() { release(); }

  U* data() { return data_.get(); }
  const U* data() const { return data_.get(); }
  U& operator[](std::size_t i) { return data_[i]; }
  const U& operator[](std::size_t i) const { return data_[i]; }
  std::size_t size() const { return n_; }
  void fill(const U& v) { std::fill_n(data_.get(), n_, v); }

 private:
  void release() {
    if (meter_) meter_->released(n_ * sizeof(U));
    data_.reset();
    n_ = 0;
    meter_ = nullptr;
  }
  std::unique_ptr<U[]> data_;
  std::size_t n_ = 0;
  MemoryMeter* meter_ = nullptr;
};

}  // namespace imx::mi
