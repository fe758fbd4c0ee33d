// dim-mi end to end: writes .npy features, runs the binary, and checks its loss and gradient
// files against the library; then the error cases.
#include <catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "engine/npy.h"
#include "tests/mi/mi_test_util.h"
#include "tests/mi/test_files.h"

using namespace imx::mi;
using imx::test::TempDir;

namespace {

const std::string kDimMi = DIM_MI_PATH;

std::string dim_mi(const std::string& local, const std::string& global, const std::string& estimator,
                   const std::string& out, const std::string& extra = "") {
  return "'" + kDimMi + "' --local '" + local + "' --global '" + global + "' --estimator " + estimator +
         " --out '" + out + "' " + extra;
}

template <class T>
void check_tool(const Problem& pb, bool global_2d, Estimator e, const std::string& impl) {
  TempDir dir("imx_dim_mi");
  const test::Features f = test::make_features(pb, 5.0, 77);
  const std::vector<T> L = test::cast<T>(f.local), G = test::cast<T>(f.global);
  const char* dtype = sizeof(T) == 4 ? "<f4" : "<f8";
  const std::vector<int64_t> lshape{pb.B, pb.P, pb.D};
  const std::vector<int64_t> gshape = global_2d ? std::vector<int64_t>{pb.B, pb.D} : std::vector<int64_t>{pb.B, pb.K, pb.D};
  imx::write_npy(dir.file("L.npy"), dtype, lshape, L.data());
  imx::write_npy(dir.file("G.npy"), dtype, gshape, G.data());
  const std::string out = dir.file("out/nested");
  const auto r = imx::test::run_command(
      dim_mi(dir.file("L.npy"), dir.file("G.npy"), std::string(estimator_name(e)), out, "--impl " + impl), dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  const test::Outcome<T> ref = test::run<T>(Impl::fused, pb, e, L, G);
  const imx::NpyArray loss = imx::read_npy(out + "/loss.npy");
  const imx::NpyArray dl = imx::read_npy(out + "/grad_local.npy");
  const imx::NpyArray dg = imx::read_npy(out + "/grad_global.npy");
  CHECK(loss.dtype == dtype);
  CHECK(loss.shape.empty());
  CHECK(dl.dtype == dtype);
  CHECK(dl.shape == lshape);
  CHECK(dg.dtype == dtype);
  CHECK(dg.shape == gshape);
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  CHECK(test::rel_err(double(loss.as<T>()[0]), ref.loss) <= tol);
  CHECK(test::rel_err(std::vector<T>(dl.as<T>(), dl.as<T>() + dl.numel()), test::cast<double>(ref.dlocal)) <= tol);
  CHECK(test::rel_err(std::vector<T>(dg.as<T>(), dg.as<T>() + dg.numel()), test::cast<double>(ref.dglobal)) <= tol);
  // The printed loss is the written one.
  REQUIRE(r.out.rfind("loss ", 0) == 0);
  CHECK(std::stod(r.out.substr(5)) == Approx(double(loss.as<T>()[0])).epsilon(1e-8));
}

}  // namespace

TEST_CASE("dim-mi computes the loss and gradients of .npy features", "[mi][tool]") {
  check_tool<float>({3, 4, 5, 1}, true, Estimator::infonce, "fused");
  check_tool<double>({3, 4, 5, 2}, false, Estimator::jsd, "unfused");
  check_tool<double>({2, 3, 4, 1}, false, Estimator::dv, "naive");
  check_tool<float>({4, 2, 3, 3}, false, Estimator::infonce_exact, "fused");
}

TEST_CASE("dim-mi rejects bad inputs with clear errors", "[mi][tool]") {
  TempDir dir("imx_dim_mi_errors");
  const std::vector<float> buf(1000, 0.25f);
  const std::vector<double> dbuf(1000, 0.25);
  auto save = [&](const std::string& name, const char* dtype, std::vector<int64_t> shape) {
    imx::write_npy(dir.file(name), dtype, shape, std::string(dtype) == "<f8" ? (const void*)dbuf.data() : buf.data());
    return dir.file(name);
  };
  const std::string L = save("L.npy", "<f4", {3, 4, 5});
  const std::string G = save("G.npy", "<f4", {3, 5});
  const std::string out = dir.file("out");
  struct Bad {
    std::string cmd;
    std::vector<std::string> message;
  };
  const Bad cases[] = {
      {dim_mi(L, save("Gb.npy", "<f4", {4, 5}), "jsd", out), {"Gb.npy", "(4, 5)", "B=3", "B=4", "L.npy"}},
      {dim_mi(L, save("Gd.npy", "<f4", {3, 2, 6}), "jsd", out), {"Gd.npy", "D=5", "D=6"}},
      {dim_mi(L, save("G64.npy", "<f8", {3, 5}), "jsd", out), {"G64.npy", "'<f8'", "dtype"}},
      {dim_mi(save("Li.npy", "<i4", {3, 4, 5}), G, "jsd", out), {"Li.npy", "'<i4'", "float32"}},
      {dim_mi(save("L2.npy", "<f4", {12, 5}), G, "jsd", out), {"L2.npy", "(12, 5)", "(B, P, D)"}},
      {dim_mi(L, save("G4.npy", "<f4", {3, 1, 1, 5}), "jsd", out), {"G4.npy", "(B, K, D)"}},
      {dim_mi(L, G, "nce", out), {"'nce'", "infonce-exact"}},
      // float64 on CUDA fails with or without a device ("no CUDA device" / "computes in float32").
      {dim_mi(save("L64.npy", "<f8", {3, 4, 5}), save("G64.npy", "<f8", {3, 5}), "jsd", out, "--device cuda"),
       {"--device cuda"}},
      {dim_mi(L, G, "jsd", out, "--impl fast"), {"'fast'"}},
      {dim_mi(save("L1.npy", "<f4", {1, 4, 5}), save("G1.npy", "<f4", {1, 5}), "dv", out), {"'dv'", "B=1"}},
      {dim_mi(dir.file("missing.npy"), G, "jsd", out), {"missing.npy"}},
  };
  for (const Bad& b : cases) {
    const auto r = imx::test::run_command(b.cmd, dir);
    INFO(b.cmd << "\nstderr: " << r.err);
    CHECK(r.exit_code != 0);
    for (const std::string& m : b.message) CHECK(r.err.find(m) != std::string::npos);
  }
  imx::test::write_bytes(dir.file("junk.npy"), "not an array");
  const auto r = imx::test::run_command(dim_mi(dir.file("junk.npy"), G, "jsd", out), dir);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("junk.npy") != std::string::npos);
  CHECK(r.err.find("bad magic") != std::string::npos);
  CHECK(!std::filesystem::exists(out + "/loss.npy"));  // nothing written on failure
}

TEST_CASE("dim-mi agrees with a NumPy transcription of the formulas", "[mi][tool]") {
  const std::string py = imx::test::python_with_numpy();
  if (py.empty()) {
    WARN("no python3 with numpy found: skipping the NumPy cross-check of dim-mi (setup.sh installs python3-numpy)");
    return;
  }
  TempDir dir("imx_dim_mi_numpy");
  const auto r = imx::test::run_command(
      py + " '" + std::string(MI_TEST_DIR) + "/numpy_crosscheck.py' '" + kDimMi + "' '" + dir.path().string() + "'", dir);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
}
