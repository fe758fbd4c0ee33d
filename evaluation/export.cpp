#include "evaluation/export.h"

#include <filesystem>

#include "engine/npy.h"

namespace imx::eval {

std::vector<std::string> export_features(const std::string& dir, const std::string& split, const Features& f) {
  std::filesystem::create_directories(dir);
  std::vector<std::string> written;
  for (const auto& [name, x] : {std::pair{"conv", &f.conv}, {"fc", &f.fc}, {"y", &f.y}}) {
    const std::string path = (std::filesystem::path(dir) / (split + "_" + name + ".npy")).string();
    const Tensor host = x->to(Device::CPU).to(DType::F32);
    write_npy(path, "<f4", host.shape(), host.raw());
    written.push_back(path);
  }
  const std::string labels = (std::filesystem::path(dir) / (split + "_labels.npy")).string();
  const int64_t n = static_cast<int64_t>(f.labels.size());
  write_npy(labels, "<i4", std::span<const int64_t>(&n, 1), f.labels.data());
  written.push_back(labels);
  return written;
}

}  // namespace imx::eval
