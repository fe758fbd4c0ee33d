#include "tools/train/plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

extern char** environ;

namespace imx::train {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    try {
      out.push_back(json::parse(line));
    } catch (const json::exception&) {
    }
  }
  return out;
}

// gnuplot's string literal for s (single quotes, doubled inside).
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

int run_gnuplot(const std::string& script) {
  pid_t pid;
  const char* argv[] = {"gnuplot", script.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const int err = posix_spawnp(&pid, "gnuplot", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

bool plot_run(const RunFiles& files, const std::string& title, std::string* why) {
  const std::vector<json> steps = read_jsonl(files.steps()), epochs = read_jsonl(files.metrics());
  if (steps.empty() && epochs.empty()) {
    *why = "nothing logged yet";
    return false;
  }
  // One column per loss term, in a fixed (sorted) order.
  std::set<std::string> names;
  for (const json& s : steps)
    for (auto& [k, v] : s.at("terms").items()) names.insert(k);
  const fs::path tmp = fs::temp_directory_path() / ("imx-plot-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  {
    std::ofstream d(tmp / "steps.dat");
    d << "step";
    for (const auto& n : names) d << " " << n;
    d << "\n";
    for (const json& s : steps) {
      d << s.at("step").get<int64_t>();
      for (const auto& n : names) d << " " << (s.at("terms").contains(n) ? s.at("terms").at(n).get<double>() : NAN);
      d << "\n";
    }
    std::ofstream e(tmp / "epochs.dat");
    e << "epoch conv fc y\n";
    for (const json& m : epochs)
      e << m.at("epoch").get<int64_t>() << " " << 100 * m.at("acc_conv").get<double>() << " "
        << 100 * m.at("acc_fc").get<double>() << " " << 100 * m.at("acc_y").get<double>() << "\n";
  }
  const std::string png = files.plot() + ".tmp";
  {
    std::ofstream g(tmp / "plot.gp");
    g << "set terminal pngcairo size 1400,560 font ',11'\n"
      << "set output " << quoted(png) << "\n"
      << "set datafile missing 'nan'\nset key autotitle columnheader\nset grid\n"
      << "set multiplot layout 1,2 title " << quoted(title) << "\n"
      << "set title 'loss terms (unweighted), per logged step'\nset xlabel 'step'\nset ylabel 'value'\n";
    if (names.empty())
      g << "set label 'no step log (--step-log 0)' at graph 0.3, 0.5\nplot [0:1] NaN notitle\n";
    else
      g << "plot for [i=2:" << names.size() + 1 << "] " << quoted((tmp / "steps.dat").string()) << " using 1:i with lines lw 1.5\n";
    g << "set title 'probe test accuracy'\nset xtics 1\nset xlabel 'epoch'\nset ylabel '%'\nset key bottom right\n";
    if (epochs.empty())
      g << "set label 'no epoch finished yet' at graph 0.3, 0.5\nplot [0:1] NaN notitle\n";
    else
      g << "plot for [i=2:4] " << quoted((tmp / "epochs.dat").string()) << " using 1:i with linespoints pt 7 lw 2\n";
    g << "unset multiplot\n";
  }
  const int rc = run_gnuplot((tmp / "plot.gp").string());
  fs::remove_all(tmp);
  if (rc != 0 || !fs::exists(png)) {
    *why = rc == -1 ? "gnuplot is not installed (setup.sh installs gnuplot-nox)" : "gnuplot failed";
    fs::remove(png);
    return false;
  }
  fs::rename(png, files.plot());
  return true;
}

}  // namespace imx::train
