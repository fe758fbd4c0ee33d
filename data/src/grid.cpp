#include "imx/data/grid.hpp"

#include <algorithm>

#include "checks.hpp"

namespace imx::data {

ImageGrid make_grid(const Dataset& data, std::size_t first, std::size_t count, int cols, int gap,
                    std::uint8_t gap_value) {
  if (cols <= 0 || gap < 0) throw DataError(detail::cat("make_grid: bad layout: cols ", cols, ", gap ", gap));
  count = first < data.size() ? std::min(count, data.size() - first) : 0;
  if (count == 0) throw DataError(detail::cat(data.name, ": no images to show from index ", first));
  ImageGrid grid;
  grid.cols = static_cast<int>(std::min<std::size_t>(cols, count));
  grid.rows = static_cast<int>((count + grid.cols - 1) / grid.cols);
  grid.channels = data.channels;
  grid.height = grid.rows * (data.height + gap) + gap;
  grid.width = grid.cols * (data.width + gap) + gap;
  const std::size_t plane = static_cast<std::size_t>(grid.height) * grid.width;
  grid.pixels.assign(plane * grid.channels, gap_value);
  std::vector<std::uint8_t> image(data.image_bytes());
  for (std::size_t i = 0; i < count; ++i) {
    data.copy_image(first + i, image.data());
    const int top = gap + static_cast<int>(i / grid.cols) * (data.height + gap);
    const int left = gap + static_cast<int>(i % grid.cols) * (data.width + gap);
    for (int k = 0; k < data.channels; ++k)
      for (int y = 0; y < data.height; ++y)
        std::copy_n(image.data() + (static_cast<std::size_t>(k) * data.height + y) * data.width, data.width,
                    grid.pixels.data() + k * plane + static_cast<std::size_t>(top + y) * grid.width + left);
  }
  return grid;
}

}  // namespace imx::data
