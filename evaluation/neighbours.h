// A picture of nearest neighbours: one row per query, the test image first, then its k nearest
// training images, most similar first (data::make_grid lays the tiles out).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "evaluation/knn.h"
#include "imx/data/grid.hpp"

namespace imx::eval {

// `queries` are test indices; nb holds their neighbours in the same order (nearest_neighbours
// of those test rows). Throws when the splits' image shapes differ.
data::ImageGrid neighbour_grid(const data::Dataset& train, const data::Dataset& test,
                               std::span<const uint32_t> queries, const Neighbours& nb);

// The first test image of each class, in class order, at most n of them (fewer when classes
// are missing), then further images in order up to n: a varied set of queries.
std::vector<uint32_t> one_query_per_class(const std::vector<int32_t>& labels, int64_t classes, int64_t n);

// Writes the grid as a PNG.
void write_png(const std::string& path, const data::ImageGrid& grid);

}  // namespace imx::eval
