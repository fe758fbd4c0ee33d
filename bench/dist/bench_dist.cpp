// dim-bench dist: the MI loss with the negatives of the whole global batch, per rank, under
// mpirun -np N: the ring (mi::sharded) against the all-gather version and against plain data
// parallelism (each rank's own batch), with each path's FLOPs, time, share of the sgemm
// ceiling measured on this rank in the same run, and the extra memory it needs per rank.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

#include "bench/common/subcommands.h"
#include "bench/common/timing.h"
#include "distributed/global_mi.h"
#include "distributed/mpi_communicator.h"
#include "engine/runtime.h"

namespace imx::bench {
namespace {

struct DistFlags {
  int64_t batch = 64, P = 64, D = 512, K = 1;
  std::string estimator = "infonce", json;
  int reps = 5;
  double timeout = 300;
};

struct Row {
  std::string path;
  double flops = 0, ms = 0, extra_bytes = 0;
};

void run_dist(const DistFlags& f) {
  const auto group = dist::Group::create(Device::CPU, f.timeout);
  share_cores_between_local_ranks(group->local_size());
  dist::Communicator& comm = group->host();
  const int ranks = comm.size();
  const mi::Estimator e = mi::parse_estimator(f.estimator);
  const mi::Problem shard{f.batch, f.P, f.D, f.K}, whole{f.batch * ranks, f.P, f.D, f.K};
  const int64_t lsize = shard.B * shard.P * shard.D, gsize = shard.B * shard.K * shard.D;
  std::mt19937 rng(17 + comm.rank());
  std::normal_distribution<float> normal(0.f, 0.05f);
  std::vector<float> L(lsize), G(gsize), dL(lsize), dG(gsize);
  for (float& x : L) x = normal(rng);
  for (float& x : G) x = normal(rng);
  const double ceiling = sgemm_ceiling_gflops();  // this rank's share of the machine, now

  std::vector<Row> rows;
  {  // The ring: this rank's columns against every rank's rows, global-feature blocks passed around.
    std::size_t peak = 0;
    mi::Options opt;
    opt.peak_extra_bytes = &peak;
    dist::CommunicatorRing ring(comm);
    const double ms = median_ms(f.reps, [&] { mi::sharded<float>(shard, e, L.data(), G.data(), ring, {dL.data(), dG.data()}, opt); });
    // Open MPI's MPI_Sendrecv_replace holds one more copy of the travelling buffer (global
    // features and their dG accumulator).
    const double transport = 2.0 * gsize * sizeof(float);
    rows.push_back({"ring", 6.0 * shard.rows() * whole.cols() * f.D, ms, double(peak) + transport});
  }
  {  // All-gather: every rank gathers every rank's features and computes the whole batch.
    std::vector<float> La(lsize * ranks), Ga(gsize * ranks), dLa(La.size()), dGa(Ga.size());
    std::size_t peak = 0;
    mi::Options opt;
    opt.peak_extra_bytes = &peak;
    const double ms = median_ms(f.reps, [&] {
      comm.all_gather(L.data(), La.data(), lsize * sizeof(float));
      comm.all_gather(G.data(), Ga.data(), gsize * sizeof(float));
      mi::fused<float>(whole, e, La.data(), Ga.data(), {dLa.data(), dGa.data()}, opt);
    });
    const double gathered = 2.0 * (La.size() + Ga.size()) * sizeof(float);  // features and their gradients
    rows.push_back({"gather", 6.0 * whole.rows() * whole.cols() * f.D, ms, double(peak) + gathered});
  }
  {  // Plain data parallelism: each rank's own batch (fewer negatives: another loss).
    std::size_t peak = 0;
    mi::Options opt;
    opt.peak_extra_bytes = &peak;
    const double ms = median_ms(f.reps, [&] { mi::fused<float>(shard, e, L.data(), G.data(), {dL.data(), dG.data()}, opt); });
    rows.push_back({"local", 6.0 * shard.rows() * shard.cols() * f.D, ms, double(peak)});
  }
  // Each rank's numbers; rank 0 prints the slowest rank's time (what a step waits for).
  nlohmann::json out = nlohmann::json::array();
  if (comm.rank() == 0)
    std::printf("MI loss fwd+bwd per rank: %d ranks x batch %lld (global %lld), P=%lld D=%lld K=%lld, %s, float32\n"
                "%-8s %12s %10s %9s %9s %7s %10s\n",
                ranks, (long long)f.batch, (long long)whole.B, (long long)f.P, (long long)f.D, (long long)f.K,
                f.estimator.c_str(), "path", "GFLOP/rank", "ms", "GFLOP/s", "ceiling", "%ceil", "extra MB");
  for (const Row& r : rows) {
    double worst[2] = {r.ms, r.extra_bytes}, ceil_min = ceiling;
    comm.all_reduce(worst, 2, dist::Reduce::max);
    double neg = -ceil_min;
    comm.all_reduce(&neg, 1, dist::Reduce::max);
    ceil_min = -neg;
    const double gflops = r.flops / (worst[0] * 1e6);
    if (comm.rank() == 0) {
      std::printf("%-8s %12.2f %10.2f %9.1f %9.1f %6.0f%% %10.1f\n", r.path.c_str(), r.flops / 1e9, worst[0], gflops,
                  ceil_min, 100 * gflops / ceil_min, worst[1] / 1e6);
      out.push_back({{"path", r.path}, {"ranks", ranks}, {"batch", f.batch}, {"P", f.P}, {"D", f.D}, {"K", f.K},
                     {"estimator", f.estimator}, {"gflop_per_rank", r.flops / 1e9}, {"ms", worst[0]},
                     {"gflops", gflops}, {"ceiling_gflops", ceil_min}, {"extra_mb", worst[1] / 1e6}});
    }
  }
  if (comm.rank() == 0 && !f.json.empty()) {
    std::ofstream j(f.json, std::ios::app);
    for (const auto& line : out) j << line.dump() << "\n";
    if (!j) throw Error("dim-bench dist: cannot write " + f.json);
  }
}

}  // namespace

void add_dist_subcommand(CLI::App& app) {
  auto f = std::make_shared<DistFlags>();
  CLI::App* sub = app.add_subcommand(
      "dist", "The MI loss over the global batch of data-parallel ranks (run under mpirun -np N): ring vs "
              "all-gather vs each rank's own batch; per-rank time, share of the ceiling and extra memory");
  sub->add_option("--batch", f->batch, "Images per rank")->capture_default_str();
  sub->add_option("--P", f->P, "Locations per image")->capture_default_str();
  sub->add_option("--D", f->D, "Feature width")->capture_default_str();
  sub->add_option("--K", f->K, "Global vectors per image")->capture_default_str();
  sub->add_option("--estimator", f->estimator, "MI estimator")->capture_default_str();
  sub->add_option("--reps", f->reps, "Timed repetitions (median) after a warm-up")->capture_default_str();
  sub->add_option("--json", f->json, "Append one JSON line per path to this file (rank 0)");
  sub->callback([f] { run_dist(*f); });
}

}  // namespace imx::bench
