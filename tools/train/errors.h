// dim-train's failures by kind, each with its own exit status (listed in --help), so scripts
// can tell a bad command line from bad data, a diverged run or a clean stop.
#pragma once
#include <exception>
#include <string>

#include "engine/core.h"

namespace imx::train {

enum ExitStatus : int {
  kExitOk = 0,
  kExitFailure = 1,   // anything else (an I/O failure such as a full disk, an internal error)
  kExitUsage = 2,     // bad flags or values, an occupied --out, a resume with other settings
  kExitBadInput = 3,  // a data set or checkpoint that is missing, truncated or corrupt
  kExitDiverged = 4,  // a loss term became NaN or infinite
  // A clean stop on a signal exits with 128 + the signal: 130 (SIGINT), 143 (SIGTERM).
};

struct UsageError : Error {
  using Error::Error;
};
struct InputError : Error {
  using Error::Error;
};
struct DivergedError : Error {
  using Error::Error;
};
// Thrown after the checkpoint of a run stopped by a signal has been written.
struct Interrupted : Error {
  Interrupted(int sig, const std::string& what) : Error(what), signal(sig) {}
  int signal;
};

// The exit status for an exception that ended a run.
int exit_status(const std::exception& e);

}  // namespace imx::train
