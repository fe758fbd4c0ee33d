#include "imx/data/dataset.hpp"

#include <algorithm>

#include "checks.hpp"
#include "imx/data/image_codec.hpp"

namespace imx::data {
using detail::fail;

void Dataset::copy_image(std::size_t i, std::uint8_t* out) const {
  if (i >= size()) fail(name, "image index ", i, " out of range: the data set has ", size(), " images");
  if (is_encoded()) {
    decode_image_into(encoded[i], encoded_sources[i], channels, height, width, out);
  } else {
    std::copy_n(pixels.data() + i * image_bytes(), image_bytes(), out);
  }
}

void Dataset::append(const Dataset& other) {
  if (is_encoded() || other.is_encoded()) fail(name, "append: both data sets must be decoded");
  if (size() == 0 && pixels.empty() && channels == 0) {
    channels = other.channels;
    height = other.height;
    width = other.width;
  }
  if (other.channels != channels || other.height != height || other.width != width)
    fail(other.name, "image shape ", other.channels, "x", other.height, "x", other.width, " (CxHxW) differs from ",
         channels, "x", height, "x", width, " of ", name);
  pixels.insert(pixels.end(), other.pixels.begin(), other.pixels.end());
  labels.insert(labels.end(), other.labels.begin(), other.labels.end());
}

Dataset Dataset::range(std::size_t begin, std::size_t end) const {
  if (begin > end || end > size()) fail(name, "range [", begin, ", ", end, ") outside the ", size(), " images");
  Dataset out;
  out.name = name;
  out.channels = channels;
  out.height = height;
  out.width = width;
  out.class_names = class_names;
  out.labels.assign(labels.begin() + begin, labels.begin() + end);
  if (is_encoded()) {
    out.encoded.assign(encoded.begin() + begin, encoded.begin() + end);
    out.encoded_sources.assign(encoded_sources.begin() + begin, encoded_sources.begin() + end);
  } else {
    out.pixels.assign(pixels.begin() + begin * image_bytes(), pixels.begin() + end * image_bytes());
  }
  return out;
}

std::vector<std::size_t> Dataset::label_histogram() const {
  std::vector<std::size_t> counts(class_names.size(), 0);
  for (std::int32_t label : labels)
    if (label >= 0 && static_cast<std::size_t>(label) < counts.size()) ++counts[label];
  return counts;
}

void Dataset::check_consistent() const {
  if (channels < 0 || height < 0 || width < 0) fail(name, "negative image shape");
  if (is_encoded()) {
    if (encoded.size() != size() || encoded_sources.size() != size())
      fail(name, "holds ", encoded.size(), " encoded images for ", size(), " labels");
  } else if (pixels.size() != size() * image_bytes()) {
    fail(name, "holds ", pixels.size(), " pixel bytes, expected ", size(), " images x ", image_bytes(), " bytes");
  }
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < -1 || labels[i] >= static_cast<std::int32_t>(class_names.size()))
      fail(name, "label ", labels[i], " of image ", i, " out of range: expected -1 (unlabeled) or 0..",
           static_cast<long>(class_names.size()) - 1);
}

}  // namespace imx::data
