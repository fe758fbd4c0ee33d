#include "tools/train/run_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/safetensors.h"
#include "tools/train/errors.h"

namespace imx::train {

namespace fs = std::filesystem;

void RunFiles::prepare(bool resume, bool overwrite) const {
  fs::create_directories(dir_);
  if (resume) return;
  bool occupied = false;
  for (const std::string& f : {checkpoint(), metrics(), steps(), plot()}) occupied = occupied || fs::exists(f);
  if (!occupied) return;
  if (!overwrite)
    throw UsageError("dim-train: " + dir_ + " holds another run (" + checkpoint() +
                     "); pass --resume to continue it, --overwrite to replace it, or another --out");
  for (const std::string& f : {checkpoint(), metrics(), steps(), plot()}) fs::remove(f);
}

namespace {

// Keeps the lines of a JSONL file for which keep(line) holds, rewriting it atomically.
template <class Keep>
void filter_lines(const std::string& path, Keep keep) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::ostringstream out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    try {
      if (keep(nlohmann::json::parse(line))) out << line << "\n";
    } catch (const nlohmann::json::exception&) {
      // A line cut short by a crash: dropped, the checkpoint is what counts.
    }
  }
  write_file_atomically(path, out.str());
}

void append_line(const std::string& path, const nlohmann::json& line) {
  std::ofstream out(path, std::ios::app);
  out << line.dump() << "\n";
  out.flush();
  if (!out) throw Error(path + ": cannot append (disk full?)");
}

}  // namespace

void RunFiles::trim(int64_t epochs_done, int64_t steps_done) const {
  filter_lines(metrics(), [&](const nlohmann::json& j) { return j.value("epoch", int64_t(0)) <= epochs_done; });
  filter_lines(steps(), [&](const nlohmann::json& j) { return j.value("step", int64_t(0)) < steps_done; });
}

void RunFiles::append_metrics(const nlohmann::json& line) const { append_line(metrics(), line); }
void RunFiles::append_step(const nlohmann::json& line) const { append_line(steps(), line); }

}  // namespace imx::train
