#include "tools/train/rank_sync.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "imx/data/error.hpp"
#include "tools/train/errors.h"

namespace imx::train {

void on_all_ranks(dist::Group& g, const std::function<void()>& f) {
  if (g.size() == 1) return f();
  std::exception_ptr mine;
  double status = 0;
  try {
    f();
  } catch (const std::exception& e) {
    mine = std::current_exception();
    status = exit_status(e);
  }
  // The worst exit status and, for it, the lowest failing rank.
  double worst = status;
  g.host().all_reduce(&worst, 1, dist::Reduce::max);
  if (worst == 0) return;
  double who = status == worst ? -g.rank() : -1e9;
  g.host().all_reduce(&who, 1, dist::Reduce::max);
  if (mine) std::rethrow_exception(mine);
  const std::string what = "rank " + std::to_string(static_cast<int>(-who)) + " failed (its error is above)";
  switch (static_cast<int>(worst)) {
    case kExitUsage: throw UsageError(what);
    case kExitBadInput: throw InputError(what);
    case kExitDiverged: throw DivergedError(what);
    default: throw Error(what);
  }
}

void average_values(std::map<std::string, double>& values, dist::Group& g) {
  if (g.size() == 1) return;
  std::vector<double> v;
  for (const auto& [name, x] : values) v.push_back(x);  // std::map: the same key order everywhere
  g.host().all_reduce(v.data(), v.size(), dist::Reduce::sum);
  size_t i = 0;
  for (auto& [name, x] : values) x = v[i++] / g.size();
}

int max_over_ranks(int value, dist::Group& g) {
  double v = value;
  g.host().all_reduce(&v, 1, dist::Reduce::max);
  return static_cast<int>(v);
}

RankZeroFile::RankZeroFile(const std::string& path, dist::Group& g) : local_(path) {
  if (g.size() == 1) return;
  std::vector<char> bytes;
  on_all_ranks(g, [&] {
    if (!g.is_root()) return;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot read " + path);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  });
  double size = static_cast<double>(bytes.size());
  g.host().broadcast(&size, sizeof size, 0);
  bytes.resize(static_cast<size_t>(size));
  g.host().broadcast(bytes.data(), bytes.size(), 0);
  on_all_ranks(g, [&] {
    if (g.is_root()) return;
    char name[] = "/tmp/infomax-checkpoint-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) throw Error("cannot create a temporary file for rank 0's checkpoint in /tmp");
    local_ = name;
    temporary_ = true;
    const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    ::close(fd);
    if (!ok) throw Error("cannot write rank 0's checkpoint to " + local_ + " (disk full?)");
  });
}

RankZeroFile::~RankZeroFile() {
  if (temporary_) std::remove(local_.c_str());
}

}  // namespace imx::train
