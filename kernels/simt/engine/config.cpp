#include <atomic>
#include <charconv>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

#include "kernels/simt/emu/config.h"
#include "kernels/simt/emu/error.h"
#include "kernels/simt/engine/sanitizer_hooks.h"
#include "kernels/simt/engine/settings.h"

namespace imx::simt {

namespace {

// Sanitizer builds have much larger frames.
constexpr std::size_t kDefaultStackBytes = detail::san::kAsan   ? 256 * 1024
                                           : detail::san::kTsan ? 128 * 1024
                                                                : 64 * 1024;
constexpr std::size_t kMinStackBytes = 16 * 1024;
constexpr unsigned kMaxWorkers = 256;

struct Settings {
  std::mutex mutex;
  bool loaded = false;
  Schedule schedule;
  std::size_t stack_bytes = kDefaultStackBytes;
  unsigned workers = 1;
  std::atomic<std::uint64_t> launch_counter{0};
  std::atomic<std::uint64_t> launches{0}, blocks{0}, threads{0}, switches{0};
};

Settings& settings() {
  static Settings instance;
  return instance;
}

std::uint64_t parse_unsigned(std::string_view text, const char* what) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw std::invalid_argument(std::string(what) + ": expected an unsigned integer, found '" + std::string(text) + "'");
  }
  return value;
}

// Reads the environment once; called with the mutex held.
void load_environment(Settings& s) {
  if (s.loaded) return;
  s.loaded = true;
  if (const char* text = std::getenv("IMX_SIMT_SCHEDULE"); text != nullptr && *text != '\0') {
    try {
      s.schedule = Schedule::parse(text);
    } catch (const std::exception& error) {
      throw SimtError(std::string("IMX_SIMT_SCHEDULE=") + text + ": " + error.what());
    }
  }
  if (const char* text = std::getenv("IMX_SIMT_STACK_KB"); text != nullptr && *text != '\0') {
    std::uint64_t kib = 0;
    try {
      kib = parse_unsigned(text, "IMX_SIMT_STACK_KB");
    } catch (const std::exception& error) {
      throw SimtError(error.what());
    }
    if (kib * 1024 < kMinStackBytes) {
      throw SimtError(std::string("IMX_SIMT_STACK_KB=") + text + ": expected at least " +
                      std::to_string(kMinStackBytes / 1024));
    }
    s.stack_bytes = static_cast<std::size_t>(kib * 1024);
  }
  if (const char* text = std::getenv("IMX_SIMT_WORKERS"); text != nullptr && *text != '\0') {
    std::uint64_t count = 0;
    try {
      count = parse_unsigned(text, "IMX_SIMT_WORKERS");
    } catch (const std::exception& error) {
      throw SimtError(error.what());
    }
    if (count < 1 || count > kMaxWorkers) {
      throw SimtError(std::string("IMX_SIMT_WORKERS=") + text + ": expected 1.." + std::to_string(kMaxWorkers));
    }
    s.workers = static_cast<unsigned>(count);
  }
}

}  // namespace

Schedule Schedule::parse(std::string_view text) {
  if (text == "inorder" || text == "in-order") return Schedule{};
  if (text == "reverse") return Schedule{Order::Reverse, 0};
  constexpr std::string_view kRandom = "random:";
  if (text.substr(0, kRandom.size()) == kRandom) {
    return Schedule{Order::Random, parse_unsigned(text.substr(kRandom.size()), "random schedule seed")};
  }
  throw std::invalid_argument("unknown schedule '" + std::string(text) + "': expected inorder, reverse or random:SEED");
}

std::string Schedule::to_string() const {
  switch (order) {
    case Order::InOrder: return "inorder";
    case Order::Reverse: return "reverse";
    case Order::Random: return "random:" + std::to_string(seed);
  }
  return "?";
}

void set_schedule(const Schedule& schedule) {
  Settings& s = settings();
  std::lock_guard lock(s.mutex);
  load_environment(s);
  s.schedule = schedule;
  s.launch_counter = 0;
}

Schedule schedule() {
  Settings& s = settings();
  std::lock_guard lock(s.mutex);
  load_environment(s);
  return s.schedule;
}

const std::vector<Schedule>& standard_schedules() {
  static const std::vector<Schedule> schedules = {
      Schedule{Schedule::Order::InOrder, 0}, Schedule{Schedule::Order::Reverse, 0},
      Schedule{Schedule::Order::Random, 1},  Schedule{Schedule::Order::Random, 2},
      Schedule{Schedule::Order::Random, 3},
  };
  return schedules;
}

ScopedSchedule::ScopedSchedule(const Schedule& schedule) : previous_(imx::simt::schedule()) { set_schedule(schedule); }
ScopedSchedule::~ScopedSchedule() { set_schedule(previous_); }

void set_stack_size(std::size_t bytes) {
  if (bytes < kMinStackBytes) {
    throw std::invalid_argument("imx::simt::set_stack_size: " + std::to_string(bytes) + " bytes; expected at least " +
                                std::to_string(kMinStackBytes));
  }
  Settings& s = settings();
  std::lock_guard lock(s.mutex);
  load_environment(s);
  s.stack_bytes = bytes;
}

std::size_t stack_size() {
  Settings& s = settings();
  std::lock_guard lock(s.mutex);
  load_environment(s);
  return s.stack_bytes;
}

void set_workers(unsigned count) {
  if (count < 1 || count > kMaxWorkers) {
    throw std::invalid_argument("imx::simt::set_workers: " + std::to_string(count) + "; expected 1.." +
                                std::to_string(kMaxWorkers));
  }
  Settings& s = settings();
  std::lock_guard lock(s.mutex);
  load_environment(s);
  s.workers = count;
}

unsigned workers() {
  Settings& s = settings();
  std::lock_guard lock(s.mutex);
  load_environment(s);
  return s.workers;
}

Stats stats() {
  Settings& s = settings();
  return Stats{s.launches.load(), s.blocks.load(), s.threads.load(), s.switches.load()};
}

void reset_stats() {
  Settings& s = settings();
  s.launches = 0;
  s.blocks = 0;
  s.threads = 0;
  s.switches = 0;
}

namespace detail {

std::uint64_t next_launch_index() { return settings().launch_counter.fetch_add(1); }

void add_stats(const Stats& delta) {
  Settings& s = settings();
  s.launches += delta.launches;
  s.blocks += delta.blocks;
  s.threads += delta.threads;
  s.switches += delta.context_switches;
}

}  // namespace detail
}  // namespace imx::simt
