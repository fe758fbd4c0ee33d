// The picture of a run: loss terms per logged step and probe accuracies per epoch, drawn by
// gnuplot (Debian's gnuplot-nox) from the run's metrics.jsonl and steps.jsonl into a PNG.
#pragma once
#include <string>

#include "tools/train/run_files.h"

namespace imx::train {

// Writes files.plot() (atomically). Returns false, with the reason in *why, when there is
// nothing to draw or gnuplot is missing or fails; training results never depend on it.
bool plot_run(const RunFiles& files, const std::string& title, std::string* why);

}  // namespace imx::train
