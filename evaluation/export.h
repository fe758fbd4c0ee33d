// Features as NumPy files, for analysis outside this project.
#pragma once
#include <string>
#include <vector>

#include "evaluation/features.h"

namespace imx::eval {

// Writes DIR/SPLIT_conv.npy, SPLIT_fc.npy, SPLIT_y.npy (float32 [N, F]) and SPLIT_labels.npy
// (int32 [N]), creating DIR; returns the paths written.
std::vector<std::string> export_features(const std::string& dir, const std::string& split, const Features& f);

}  // namespace imx::eval
