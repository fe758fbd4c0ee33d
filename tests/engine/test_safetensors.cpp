// Checkpoint files: round trip, atomic replacement, and clear errors for damaged files.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/safetensors.h"
#include "helpers.h"

using namespace imx;
using Catch::Contains;

namespace {
std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("imx_test_" + name)).string();
}
}  // namespace

TEST_CASE("safetensors round trip keeps names, shapes, dtypes, values and metadata", "[safetensors]") {
  const std::string path = temp_path("roundtrip.safetensors");
  TensorFile f;
  f.tensors.emplace_back("a.weight", testing::random_tensor({3, 5}, 1, DType::F32));
  f.tensors.emplace_back("b", testing::random_tensor({2, 1, 4}, 2, DType::F64));
  f.tensors.emplace_back("scalar", Tensor::full({}, 7.0));
  f.metadata["epoch"] = "3";
  save_safetensors(path, f);
  const TensorFile g = load_safetensors(path);
  REQUIRE(g.tensors.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(g.tensors[i].first == f.tensors[i].first);
    CHECK(g.tensors[i].second.shape() == f.tensors[i].second.shape());
    CHECK(g.tensors[i].second.dtype() == f.tensors[i].second.dtype());
    CHECK(g.tensors[i].second.to_vector() == f.tensors[i].second.to_vector());
  }
  CHECK(g.metadata.at("epoch") == "3");
  // The layout other readers expect: u64 header length, JSON header, then data.
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, '\0');
  in.read(header.data(), n);
  CHECK(header.find("\"a.weight\":{\"dtype\":\"F32\",\"shape\":[3,5],\"data_offsets\":[0,60]}") != std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("a failed save leaves the previous file intact", "[safetensors]") {
  const std::string dir = temp_path("readonly_dir");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/ckpt.safetensors";
  TensorFile f;
  f.tensors.emplace_back("x", Tensor::full({4}, 1.0));
  save_safetensors(path, f);
  // A directory standing where the temporary file must go makes the write fail.
  std::filesystem::create_directories(dir + "/.ckpt.safetensors.tmp");
  f.tensors[0].second = Tensor::full({4}, 2.0);
  CHECK_THROWS_WITH(save_safetensors(path, f), Contains(path));
  CHECK(load_safetensors(path).tensors[0].second.to_vector() == std::vector<double>{1, 1, 1, 1});
  std::filesystem::remove_all(dir);
}

TEST_CASE("damaged checkpoint files get errors naming the file", "[safetensors]") {
  const std::string path = temp_path("damaged.safetensors");
  TensorFile f;
  f.tensors.emplace_back("w", Tensor::full({100}, 1.0));
  save_safetensors(path, f);
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 10);
  CHECK_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("'w'"));
  std::filesystem::resize_file(path, 5);
  CHECK_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("truncated"));
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    const uint64_t n = 4;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << "{bad";
  }
  CHECK_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("JSON"));
  CHECK_THROWS_WITH(load_safetensors(path + ".missing"), Contains("cannot open"));
  std::filesystem::remove(path);
}
