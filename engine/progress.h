// Progress lines for long loops: done/total, a rate, and an ETA, at most every `interval`
// seconds (and always for the last item).
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

namespace imx::tools {

class Progress {
 public:
  Progress(std::string label, long total, double interval_seconds = 2.0)
      : label_(std::move(label)), total_(total), interval_(interval_seconds),
        start_(clock::now()), last_(start_) {}

  // Reports `done` items (of `total`), each worth `units` (e.g. images) for the rate.
  void update(long done, double units_done, const std::string& extra = "") {
    const auto now = clock::now();
    if (done < total_ && std::chrono::duration<double>(now - last_).count() < interval_) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? units_done / elapsed : 0;
    const double eta = done > 0 ? elapsed * (total_ - done) / done : 0;
    std::printf("%s [%ld/%ld] %s | %.0f img/s | elapsed %s | ETA %s\n", label_.c_str(), done,
                total_, extra.c_str(), rate, clock_text(elapsed).c_str(), clock_text(eta).c_str());
    std::fflush(stdout);
  }

  double elapsed() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

  static std::string clock_text(double seconds) {
    const long s = static_cast<long>(seconds + 0.5);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    return buf;
  }

 private:
  using clock = std::chrono::steady_clock;
  std::string label_;
  long total_;
  double interval_;
  clock::time_point start_, last_;
};

}  // namespace imx::tools
