#pragma once
// The one exception type of the dataset layer: every message names the file (or "spec"/"loader")
// it is about and says what was expected and what was found.
#include <stdexcept>
#include <string>

namespace imx::data {

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace imx::data
