// mi::sharded (the ring over ranks, losses/mi/sharded.h) against the unfused path on the whole
// batch, with the ranks played by threads of this process around an in-memory ring.
#include <catch.hpp>

#include <barrier>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "losses/mi/sharded.h"
#include "tests/mi/mi_test_util.h"

using namespace imx::mi;
using namespace imx::mi::test;

namespace {

// Ranks as threads: every call is a rendezvous of all of them (as an MPI collective is).
struct Shared {
  explicit Shared(int n) : ranks(n), sync(n), mailbox(n), values(n) {}
  int ranks;
  std::barrier<> sync;
  std::vector<std::vector<char>> mailbox;
  std::vector<std::vector<double>> values;
};

class ThreadRing : public ShardRing {
 public:
  ThreadRing(Shared& s, int rank) : s_(s), rank_(rank) {}
  int64_t ranks() const override { return s_.ranks; }
  int64_t rank() const override { return rank_; }
  void pass(void* buffer, std::size_t bytes) override {
    ++passes;
    s_.mailbox[(rank_ + 1) % s_.ranks].assign(static_cast<char*>(buffer), static_cast<char*>(buffer) + bytes);
    s_.sync.arrive_and_wait();
    REQUIRE(s_.mailbox[rank_].size() == bytes);
    std::memcpy(buffer, s_.mailbox[rank_].data(), bytes);
    s_.sync.arrive_and_wait();
  }
  void sum(double* x, int n) override {
    reduce(x, n, [](double a, double b) { return a + b; });
  }
  void max(double* x, int n) override {
    reduce(x, n, [](double a, double b) { return std::max(a, b); });
  }
  int passes = 0;

 private:
  template <class Op>
  void reduce(double* x, int n, Op op) {
    s_.values[rank_].assign(x, x + n);
    s_.sync.arrive_and_wait();
    for (int i = 0; i < n; ++i) {
      double acc = s_.values[0][i];  // rank order: every rank gets the same bits
      for (int r = 1; r < s_.ranks; ++r) acc = op(acc, s_.values[r][i]);
      x[i] = acc;
    }
    s_.sync.arrive_and_wait();
  }
  Shared& s_;
  int rank_;
};

template <class T>
struct RankResult {
  double loss = 0;
  std::vector<T> dlocal, dglobal;
  int passes = 0;
  std::size_t peak = 0;
};

// Runs sharded() on `ranks` threads, rank r holding images [r*b, (r+1)*b) of the whole batch.
template <class T>
std::vector<RankResult<T>> run_ring(const Problem& whole, int ranks, Estimator e, const std::vector<T>& L,
                                    const std::vector<T>& G, bool grads, Options opt = {}) {
  const Problem shard{whole.B / ranks, whole.P, whole.D, whole.K};
  const int64_t lsize = shard.B * shard.P * shard.D, gsize = shard.B * shard.K * shard.D;
  Shared shared(ranks);
  std::vector<RankResult<T>> out(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      ThreadRing ring(shared, r);
      RankResult<T>& res = out[r];
      res.dlocal.assign(lsize, T(-7));
      res.dglobal.assign(gsize, T(-7));
      Options o = opt;
      if (o.threads == 0) o.threads = 1;
      o.peak_extra_bytes = &res.peak;
      Gradients<T> g;
      if (grads) g = {res.dlocal.data(), res.dglobal.data()};
      res.loss = double(sharded<T>(shard, e, L.data() + r * lsize, G.data() + r * gsize, ring, g, o));
      res.passes = ring.passes;
    });
  for (auto& t : threads) t.join();
  return out;
}

}  // namespace

TEST_CASE("sharded: the ring over 1-4 ranks gives the whole batch's loss and gradients", "[mi][sharded]") {
  for (const Problem& whole : {Problem{4, 3, 5, 1}, Problem{6, 2, 3, 2}}) {
    const Features f = make_features(whole, 6.0, 5 + whole.K);
    for (Estimator e : kAllEstimators) {
      const Outcome<double> ref = run<double>(Impl::unfused, whole, e, f.local, f.global);
      for (int ranks : {1, 2, int(whole.B / 2), int(whole.B)}) {
        INFO(std::string(estimator_name(e)) + " " + whole.to_string() + " on " + std::to_string(ranks) + " ranks");
        if (whole.B % ranks != 0) continue;
        const auto res = run_ring<double>(whole, ranks, e, f.local, f.global, true);
        const int64_t lsize = whole.B / ranks * whole.P * whole.D, gsize = whole.B / ranks * whole.K * whole.D;
        for (int r = 0; r < ranks; ++r) {
          CHECK(rel_err(res[r].loss, ref.loss) <= 1e-12);
          const std::vector<double> dl(ref.dlocal.begin() + r * lsize, ref.dlocal.begin() + (r + 1) * lsize);
          const std::vector<double> dg(ref.dglobal.begin() + r * gsize, ref.dglobal.begin() + (r + 1) * gsize);
          CHECK(rel_err(res[r].dlocal, dl) <= 1e-12);
          CHECK(rel_err(res[r].dglobal, dg) <= 1e-12);
        }
      }
    }
  }
}

TEST_CASE("sharded: forward only, grad_scale, float32, and a recomputing second pass", "[mi][sharded]") {
  const Problem whole{6, 4, 8, 1};
  const Features f = make_features(whole, 8.0, 3);
  const std::vector<float> L = cast<float>(f.local), G = cast<float>(f.global);
  for (Estimator e : {Estimator::jsd, Estimator::dv, Estimator::infonce}) {
    INFO(std::string(estimator_name(e)));
    const Outcome<double> ref = run<double>(Impl::unfused, whole, e, f.local, f.global);
    const auto fwd = run_ring<float>(whole, 3, e, L, G, false);
    for (const auto& r : fwd) {
      CHECK(rel_err(r.loss, ref.loss) <= 1e-5);
      CHECK(r.dlocal == std::vector<float>(r.dlocal.size(), -7.f));  // no gradient requested, none written
      CHECK(r.passes == 2);  // the features go around once, minus the last step
    }
    Options opt;
    opt.grad_scale = 0.5;
    for (std::size_t cache : {std::size_t(0), std::size_t(1) << 20}) {
      opt.score_cache_bytes = cache;
      const auto res = run_ring<float>(whole, 3, e, L, G, true, opt);
      std::vector<double> half_l = ref.dlocal, half_g = ref.dglobal;
      for (double& x : half_l) x *= 0.5;
      for (double& x : half_g) x *= 0.5;
      const int64_t lsize = 2 * whole.P * whole.D, gsize = 2 * whole.D;
      for (int r = 0; r < 3; ++r) {
        CHECK(rel_err(res[r].loss, ref.loss) <= 1e-5);
        CHECK(rel_err(res[r].dlocal, std::vector<double>(half_l.begin() + r * lsize, half_l.begin() + (r + 1) * lsize)) <= 1e-5);
        CHECK(rel_err(res[r].dglobal, std::vector<double>(half_g.begin() + r * gsize, half_g.begin() + (r + 1) * gsize)) <= 1e-5);
        CHECK(res[r].peak == sharded_bytes({2, whole.P, whole.D, whole.K}, 3, e, 4, true, opt));
      }
    }
  }
}

TEST_CASE("sharded: column tiles over 2 threads per rank, a cache that holds some of them", "[mi][sharded]") {
  const Problem whole{6, 5, 7, 2};
  const Features f = make_features(whole, 6.0, 9);
  for (Estimator e : {Estimator::jsd, Estimator::x2, Estimator::dv, Estimator::infonce, Estimator::infonce_exact}) {
    const Outcome<double> ref = run<double>(Impl::unfused, whole, e, f.local, f.global);
    Options opt;
    opt.threads = 2;
    opt.tile_cols = 3;  // 10 columns per block: tiles of 3, 3, 3, 1
    opt.score_cache_bytes = 5 * 4 * 3 * sizeof(double);  // 5 of the 12 tiles of the first pass
    const auto res = run_ring<double>(whole, 3, e, f.local, f.global, true, opt);
    const int64_t lsize = 2 * whole.P * whole.D, gsize = 2 * whole.K * whole.D;
    for (int r = 0; r < 3; ++r) {
      INFO(std::string(estimator_name(e)) + " rank " + std::to_string(r));
      CHECK(rel_err(res[r].loss, ref.loss) <= 1e-12);
      CHECK(rel_err(res[r].dlocal, std::vector<double>(ref.dlocal.begin() + r * lsize, ref.dlocal.begin() + (r + 1) * lsize)) <= 1e-12);
      CHECK(rel_err(res[r].dglobal, std::vector<double>(ref.dglobal.begin() + r * gsize, ref.dglobal.begin() + (r + 1) * gsize)) <= 1e-12);
      CHECK(res[r].peak == sharded_bytes({2, whole.P, whole.D, whole.K}, 3, e, 8, true, opt));
    }
  }
}

TEST_CASE("sharded: a rank's memory does not grow with the rank count", "[mi][sharded]") {
  const Problem shard{64, 64, 512, 1};
  Options one_thread;
  one_thread.threads = 1;
  one_thread.score_cache_bytes = 0;  // the tile cache grows with the ranks up to its fixed budget
  CHECK(sharded_bytes(shard, 2, Estimator::jsd, 4, true, one_thread) ==
        sharded_bytes(shard, 8, Estimator::jsd, 4, true, one_thread));
  // infoNCE keeps row statistics for every row of the batch: scalars per image (lanes, merged
  // statistics, positives, N and a), nothing of the other ranks' features (P*D floats per image).
  const std::size_t per_row = 16 * (4 + 8) + 16 + 64 * 4 + 2 * 4;
  CHECK(sharded_bytes(shard, 8, Estimator::infonce, 4, true, one_thread) -
            sharded_bytes(shard, 2, Estimator::infonce, 4, true, one_thread) ==
        6 * 64 * per_row);
  CHECK(per_row * 100 < std::size_t(64 * 512 * 4));
}

TEST_CASE("sharded: bad rank counts and problems are refused by name", "[mi][sharded]") {
  CHECK_THROWS_WITH(sharded_bytes({4, 2, 3, 1}, 0, Estimator::jsd), Catch::Contains("ranks must be >= 1"));
  CHECK_THROWS_WITH(sharded_bytes({1, 2, 3, 1}, 1, Estimator::jsd), Catch::Contains("at least 2 images"));
  CHECK_NOTHROW(sharded_bytes({1, 2, 3, 1}, 2, Estimator::jsd));  // one image per rank, two in the batch
}
