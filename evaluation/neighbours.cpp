#include "evaluation/neighbours.h"

#include <algorithm>

#include "engine/core.h"
#include "imx/data/bytes.hpp"
#include "imx/data/image_codec.hpp"

namespace imx::eval {

data::ImageGrid neighbour_grid(const data::Dataset& train, const data::Dataset& test,
                               std::span<const uint32_t> queries, const Neighbours& nb) {
  check(train.channels == test.channels && train.height == test.height && train.width == test.width,
        "neighbour_grid", train.name + " and " + test.name + " hold images of different shapes");
  check(nb.index.size() == queries.size() * static_cast<size_t>(nb.k) && !queries.empty(), "neighbour_grid",
        std::to_string(queries.size()) + " queries but neighbours for " +
            std::to_string(nb.k ? nb.index.size() / nb.k : 0));
  // The tiles in reading order, as a data set of their own, so make_grid lays them out.
  data::Dataset tiles;
  tiles.name = "nearest neighbours";
  tiles.channels = train.channels;
  tiles.height = train.height;
  tiles.width = train.width;
  const size_t bytes = train.image_bytes();
  auto add = [&](const data::Dataset& from, size_t i) {
    tiles.pixels.resize(tiles.pixels.size() + bytes);
    from.copy_image(i, tiles.pixels.data() + tiles.pixels.size() - bytes);
    tiles.labels.push_back(from.labels[i]);
  };
  for (size_t q = 0; q < queries.size(); ++q) {
    add(test, queries[q]);
    for (int64_t j = 0; j < nb.k; ++j) add(train, static_cast<size_t>(nb.index[q * nb.k + j]));
  }
  return data::make_grid(tiles, 0, tiles.size(), static_cast<int>(nb.k + 1));
}

std::vector<uint32_t> one_query_per_class(const std::vector<int32_t>& labels, int64_t classes, int64_t n) {
  std::vector<uint32_t> out;
  for (int64_t c = 0; c < classes && static_cast<int64_t>(out.size()) < n; ++c) {
    const auto it = std::find(labels.begin(), labels.end(), static_cast<int32_t>(c));
    if (it != labels.end()) out.push_back(static_cast<uint32_t>(it - labels.begin()));
  }
  for (uint32_t i = 0; i < labels.size() && static_cast<int64_t>(out.size()) < n; ++i)
    if (std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
  return out;
}

void write_png(const std::string& path, const data::ImageGrid& grid) {
  data::write_file(path, data::encode_png(grid.pixels.data(), grid.channels, grid.height, grid.width));
}

}  // namespace imx::eval
