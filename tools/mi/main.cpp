// dim-mi: the MI loss and its gradients for features stored as NumPy .npy files, so kernel
// developers can check this implementation against their own framework.
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/backend.h"
#include "engine/npy.h"
#include "engine/runtime.h"
#include "losses/dim/dim_losses.h"
#include "losses/mi/mi.h"

namespace {

using imx::NpyArray;
namespace mi = imx::mi;

struct Args {
  std::string local_path, global_path, estimator, device = "cpu", impl = "fused", out_dir;
  int threads = 0;
};

std::string describe(const std::string& flag, const std::string& path, const NpyArray& a) {
  return flag + " " + path + " (shape " + a.shape_string() + ", dtype '" + a.dtype + "')";
}

// Checks the two arrays against L (B, P, D) and G (B, D) or (B, K, D); returns the problem.
mi::Problem problem_of(const Args& args, const NpyArray& L, const NpyArray& G) {
  const std::string l = describe("--local", args.local_path, L), g = describe("--global", args.global_path, G);
  if (L.dtype != "<f4" && L.dtype != "<f8")
    throw std::runtime_error(l + ": expected float32 ('<f4') or float64 ('<f8') features");
  if (G.dtype != L.dtype)
    throw std::runtime_error(g + ": dtype differs from " + l + "; both must be float32 or both float64");
  if (L.shape.size() != 3) throw std::runtime_error(l + ": expected 3 dimensions (B, P, D)");
  if (G.shape.size() != 2 && G.shape.size() != 3)
    throw std::runtime_error(g + ": expected (B, D) or (B, K, D)");
  const int64_t K = G.shape.size() == 3 ? G.shape[1] : 1;
  const mi::Problem pb{L.shape[0], L.shape[1], L.shape[2], K};
  if (G.shape.front() != pb.B)
    throw std::runtime_error("batch sizes differ: " + l + " has B=" + std::to_string(pb.B) + " but " + g +
                             " has B=" + std::to_string(G.shape.front()));
  if (G.shape.back() != pb.D)
    throw std::runtime_error("feature widths differ: " + l + " has D=" + std::to_string(pb.D) + " but " + g +
                             " has D=" + std::to_string(G.shape.back()));
  if (pb.B < 1 || pb.P < 1 || pb.D < 1 || K < 1)
    throw std::runtime_error("empty input: " + l + ", " + g);
  return pb;
}

template <class T>
void run(const Args& args, const mi::Problem& pb, mi::Estimator e, const NpyArray& L, const NpyArray& G) {
  std::vector<T> dlocal(L.numel()), dglobal(G.numel());
  mi::Options opt;
  opt.threads = args.threads;
  const T loss = mi::compute<T>(mi::parse_impl(args.impl), pb, e, L.as<T>(), G.as<T>(),
                                {dlocal.data(), dglobal.data()}, opt);
  std::cout.precision(sizeof(T) == 4 ? 9 : 17);
  std::cout << "loss " << loss << "\n";
  const std::filesystem::path dir(args.out_dir);
  std::filesystem::create_directories(dir);
  imx::write_npy((dir / "loss.npy").string(), L.dtype, {}, &loss);
  imx::write_npy((dir / "grad_local.npy").string(), L.dtype, L.shape, dlocal.data());
  imx::write_npy((dir / "grad_global.npy").string(), G.dtype, G.shape, dglobal.data());
}

// The CUDA kernels through the engine's autograd op: upload, loss, backward, download.
void run_cuda(const Args& args, const mi::Problem& pb, mi::Estimator e, const NpyArray& L, const NpyArray& G) {
  using imx::Tensor;
  if (L.dtype != "<f4")
    throw std::runtime_error("--device cuda computes in float32; " + args.local_path + " is float64 (use --device cpu)");
  auto upload = [](const NpyArray& a) {
    Tensor t = Tensor::empty(imx::Shape(a.shape.begin(), a.shape.end()));
    std::memcpy(t.raw(), a.data.data(), t.nbytes());
    return t.to(imx::Device::CUDA).set_requires_grad(true);
  };
  Tensor l = upload(L), g = upload(G);
  Tensor loss = imx::mi_loss(l, g, e, mi::parse_impl(args.impl));
  loss.backward();
  const float value = static_cast<float>(loss.item());
  std::cout.precision(9);
  std::cout << "loss " << value << "\n";
  const std::filesystem::path dir(args.out_dir);
  std::filesystem::create_directories(dir);
  const Tensor gl = l.grad().to(imx::Device::CPU), gg = g.grad().to(imx::Device::CPU);
  imx::write_npy((dir / "loss.npy").string(), L.dtype, {}, &value);
  imx::write_npy((dir / "grad_local.npy").string(), L.dtype, L.shape, gl.raw());
  imx::write_npy((dir / "grad_global.npy").string(), G.dtype, G.shape, gg.raw());
  (void)pb;
}

}  // namespace

int main(int argc, char** argv) {
  imx::prefer_passive_openmp(argv);
  Args args;
  CLI::App app{
      "dim-mi: Deep InfoMax mutual-information loss and its gradients for features in .npy files.\n"
      "Scores s = <G[i,k], L[j,p]>; positives are pairs of the same image (j == i). Computes in the\n"
      "inputs' precision and writes loss.npy (0-d), grad_local.npy and grad_global.npy (the\n"
      "gradients of the loss, same shapes and dtype as the inputs) into --out."};
  app.add_option("--local", args.local_path, "Local features L, shape (B, P, D), float32 or float64")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--global", args.global_path, "Global features G, shape (B, D) or (B, K, D), same dtype")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--estimator", args.estimator, "One of: " + mi::estimator_names())->required();
  app.add_option("--device", args.device,
                 "cpu, or cuda (float32 only; fused or unfused; needs a CUDA build and a device)")
      ->capture_default_str();
  app.add_option("--impl", args.impl, "fused, unfused or naive (the materializing reference)")->capture_default_str();
  app.add_option("--threads", args.threads, "CPU threads (0 = OpenMP default)")->capture_default_str();
  app.add_option("--out", args.out_dir, "Output directory (created if missing)")->required();
  CLI11_PARSE(app, argc, argv);

  try {
    const mi::Estimator e = mi::parse_estimator(args.estimator);
    mi::parse_impl(args.impl);
    if (args.device != "cpu" && args.device != "cuda")
      throw std::runtime_error("--device must be cpu or cuda, got '" + args.device + "'");
    if (args.device == "cuda" && !imx::cuda_backend_available())
      throw std::runtime_error("--device cuda: " + imx::cuda_unavailable_reason());
    const NpyArray L = imx::read_npy(args.local_path), G = imx::read_npy(args.global_path);
    const mi::Problem pb = problem_of(args, L, G);
    pb.validate_for(e);
    if (args.device == "cuda") run_cuda(args, pb, e, L, G);
    else if (L.dtype == "<f4") run<float>(args, pb, e, L, G);
    else run<double>(args, pb, e, L, G);
  } catch (const std::exception& err) {
    std::cerr << "dim-mi: " << err.what() << "\n";
    return 1;
  }
  return 0;
}
