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

namespace imx::mi {

// A sum accumulated by several thread slots: slot 0 adds into the output itself, the others
// into partials of their own, merged in slot order at the end (so the result has the same bits
// on every run with the same slot count). The MI kernels' dG.
template <class T>
class SlotPartials {
 public:
  SlotPartials() = default;
  // Zeroes out[0, n) and the partials of slots 1..slots-1; a null `out` makes an empty object.
  SlotPartials(MemoryMeter& meter, T* out, int64_t n, int slots)
      : out_(out), n_(n), slots_(slots), partials_(meter, out ? std::size_t(slots - 1) * std::size_t(n) : 0) {
    if (!out_) return;
    std::fill_n(out_, n_, T(0));
    partials_.fill(T(0));
  }
  T* slot(int s) { return s == 0 ? out_ : partials_.data() + std::size_t(s - 1) * std::size_t(n_); }
  // Adds the partials into the output; `restart` zeroes them again for another sum.
  void merge(bool restart = false) {
    if (!out_) return;
    for (int s = 1; s < slots_; ++s) {
      T* part = slot(s);
#pragma omp simd
      for (int64_t i = 0; i < n_; ++i) out_[i] += part[i];
      if (restart) std::fill_n(part, n_, T(0));
    }
  }

 private:
  T* out_ = nullptr;
  int64_t n_ = 0;
  int slots_ = 1;
  Scratch<T> partials_;
};

}  // namespace imx::mi
