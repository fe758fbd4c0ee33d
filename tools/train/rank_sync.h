// What keeps the ranks of a data-parallel dim-train in step outside the training step: one
// rank's failure ends every rank at once (rather than leaving the others waiting in the next
// collective until the timeout), per-rank numbers become the global batch's, and rank 0's
// checkpoint reaches ranks on machines that cannot see its --out folder.
#pragma once
#include <functional>
#include <map>
#include <string>

#include "distributed/group.h"

namespace imx::train {

// Runs f on every rank. If it throws on any rank, it throws on every rank: the rank's own
// error, or on the others an error of the same kind (the same exit status) naming the rank that
// failed, whose own message that rank prints.
void on_all_ranks(dist::Group& g, const std::function<void()>& f);

// Each value := its mean over ranks (the same keys on every rank).
void average_values(std::map<std::string, double>& values, dist::Group& g);

// The largest of each rank's value (a stop signal seen by any rank stops all of them).
int max_over_ranks(int value, dist::Group& g);

// Rank 0's file `path` on every rank: rank 0 reads it and sends its bytes; the other ranks
// receive them into a temporary file, removed with this object. path() is what to open.
class RankZeroFile {
 public:
  RankZeroFile(const std::string& path, dist::Group& g);
  ~RankZeroFile();
  RankZeroFile(const RankZeroFile&) = delete;
  RankZeroFile& operator=(const RankZeroFile&) = delete;
  const std::string& path() const { return local_; }

 private:
  std::string local_;
  bool temporary_ = false;
};

}  // namespace imx::train
