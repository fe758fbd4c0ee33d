#include "tools/train/signals.h"

#include <csignal>


namespace imx::train {

namespace {
volatile std::sig_atomic_t g_signal = 0;
void record(int sig) { g_signal = sig; }
using Handler = void (*)(int);
Handler g_previous_int = SIG_DFL, g_previous_term = SIG_DFL;
}  // namespace

StopOnSignal::StopOnSignal() {
  g_signal = 0;
  g_previous_int = std::signal(SIGINT, record);
  g_previous_term = std::signal(SIGTERM, record);
}

StopOnSignal::~StopOnSignal() {
  std::signal(SIGINT, g_previous_int);
  std::signal(SIGTERM, g_previous_term);
}

int StopOnSignal::requested() const { return g_signal; }

}  // namespace imx::train
