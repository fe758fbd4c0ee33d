#include "engine/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace imx {

namespace {

[[noreturn]] void io_fail(const std::string& path, const std::string& what) {
  throw Error(path + ": " + what);
}

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      io_fail(path, std::string("write failed: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

const Tensor* TensorFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  const std::string tmp = (dir / ("." + target.filename().string() + ".tmp")).string();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) io_fail(path, std::string("cannot create ") + tmp + ": " + std::strerror(errno));
  try {
    write_all(fd, bytes.data(), bytes.size(), path);
    if (::fsync(fd) != 0) io_fail(path, std::string("fsync failed: ") + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    io_fail(path, std::string("close failed: ") + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    io_fail(path, "rename from " + tmp + " failed: " + why);
  }
  // Make the rename itself durable.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void save_safetensors(const std::string& path, const TensorFile& file) {
  nlohmann::ordered_json header;
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  size_t offset = 0;
  std::vector<Tensor> host;
  for (const auto& [name, t] : file.tensors) {
    Tensor h = t.to(Device::CPU);
    header[name] = {{"dtype", h.dtype() == DType::F32 ? "F32" : "F64"},
                    {"shape", h.shape()},
                    {"data_offsets", {offset, offset + h.nbytes()}}};
    offset += h.nbytes();
    host.push_back(h);
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  std::string bytes(8, '\0');
  const uint64_t n = json.size();
  std::memcpy(bytes.data(), &n, 8);  // little-endian on every machine this targets
  bytes += json;
  for (const auto& h : host) bytes.append(static_cast<const char*>(h.raw()), h.nbytes());
  write_file_atomically(path, bytes);
}

namespace {
TensorFile parse_entries(const std::string& path, const nlohmann::json& header,
                         const std::string& bytes, size_t data_start);
}  // namespace

TensorFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) io_fail(path, "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  if (bytes.size() < 8) io_fail(path, "truncated: " + std::to_string(bytes.size()) + " bytes, no header length");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8)
    io_fail(path, "truncated: header claims " + std::to_string(n) + " bytes, file has " +
                      std::to_string(bytes.size() - 8) + " after the length");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, n));
  } catch (const std::exception& e) {
    io_fail(path, std::string("bad JSON header: ") + e.what());
  }
  const size_t data_start = 8 + n;
  try {
    return parse_entries(path, header, bytes, data_start);
  } catch (const nlohmann::json::exception& e) {
    io_fail(path, std::string("malformed header entry: ") + e.what());
  }
}

namespace {

TensorFile parse_entries(const std::string& path, const nlohmann::json& header,
                         const std::string& bytes, size_t data_start) {
  const size_t data_size = bytes.size() - data_start;
  TensorFile file;
  // Keep the file's data order, which is the order tensors were saved in.
  std::vector<std::pair<size_t, std::string>> order;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      for (auto m = it->begin(); m != it->end(); ++m) file.metadata[m.key()] = m->get<std::string>();
      continue;
    }
    order.emplace_back(it->at("data_offsets").at(0).get<size_t>(), it.key());
  }
  std::sort(order.begin(), order.end());
  for (const auto& [begin_unused, name] : order) {
    const auto& e = header.at(name);
    const std::string dt = e.value("dtype", "");
    if (dt != "F32" && dt != "F64") io_fail(path, "tensor '" + name + "' has unsupported dtype '" + dt + "'");
    const Shape shape = e.at("shape").get<Shape>();
    const size_t begin = e.at("data_offsets").at(0).get<size_t>();
    const size_t end = e.at("data_offsets").at(1).get<size_t>();
    const DType dtype = dt == "F32" ? DType::F32 : DType::F64;
    // Validate before allocating, so a corrupt shape cannot ask for absurd memory.
    int64_t count = 1;
    bool ok = true;
    for (auto d : shape) {
      ok = ok && d >= 0 && (d == 0 || count <= static_cast<int64_t>(data_size) / d);
      count *= ok ? d : 1;
    }
    if (!ok || end < begin || end > data_size || end - begin != count * dtype_size(dtype))
      io_fail(path, "tensor '" + name + "' has offsets [" + std::to_string(begin) + ", " +
                        std::to_string(end) + ") that do not fit its shape " + shape_str(shape) +
                        " or the " + std::to_string(data_size) + " data bytes");
    Tensor t = Tensor::empty(shape, dtype);
    std::memcpy(t.raw(), bytes.data() + data_start + begin, t.nbytes());
    file.tensors.emplace_back(name, t);
  }
  return file;
}

}  // namespace

}  // namespace imx
