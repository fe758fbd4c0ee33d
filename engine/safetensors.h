// Named tensors saved as safetensors (an 8-byte header length, a JSON header, raw
// little-endian data), a format PyTorch, NumPy-based tools and others read. Writes are atomic:
// a temporary file in the same folder is written, flushed to disk and renamed over the target,
// so a crash or a full disk never leaves a half-written checkpoint in place.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace imx {

struct TensorFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // CPU tensors, in file order
  std::map<std::string, std::string> metadata;          // the "__metadata__" strings

  const Tensor* find(const std::string& name) const;
};

// Throws imx::Error naming the file on any I/O failure (the target is left untouched).
void save_safetensors(const std::string& path, const TensorFile& file);
// Throws imx::Error naming the file and what is wrong (truncated, bad header, bad offsets,
// unsupported dtype).
TensorFile load_safetensors(const std::string& path);

// Writes bytes to path atomically (temporary file, fsync, rename, fsync of the folder).
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace imx
