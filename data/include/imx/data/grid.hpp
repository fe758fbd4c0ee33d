#pragma once
// Tiling images into one picture (dim-data show).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "imx/data/dataset.hpp"

namespace imx::data {

struct ImageGrid {
  int rows = 0, cols = 0;            // tiles
  int channels = 0, height = 0, width = 0;  // of the whole picture
  std::vector<std::uint8_t> pixels;  // C×H×W
};

// Images first .. first+count-1 of `data` (clamped to its size), `cols` per row, separated and
// framed by `gap` pixels of value `gap_value`.
ImageGrid make_grid(const Dataset& data, std::size_t first, std::size_t count, int cols, int gap = 2,
                    std::uint8_t gap_value = 128);

}  // namespace imx::data
