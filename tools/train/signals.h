// A clean stop: while a StopOnSignal is alive, SIGINT and SIGTERM only record the request, so
// the training loop can finish its step, write a checkpoint and exit (tools/train/errors.h).
#pragma once

namespace imx::train {

class StopOnSignal {
 public:
  StopOnSignal();   // installs the handlers
  ~StopOnSignal();  // restores the previous ones
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  // The signal received so far (SIGINT or SIGTERM), or 0.
  int requested() const;
};

}  // namespace imx::train
