// dim-bench-data: images/s of the input pipeline alone, next to baselines measured in the same
// run: (1) a plain single-threaded loop doing the least work (copy + scale, or decode + scale),
// (2) a CPU training-step proxy: the best float GEMM throughput of this machine divided by the
// FLOPs of the DIM 32x32 encoder's forward+backward pass per image (critics, batch-norm and the
// loss left out, so the proxy overstates how fast a real CPU step could consume images).
#include <CLI/CLI.hpp>
#include <Eigen/Dense>
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include "imx/data/augment.hpp"
#include "imx/data/bytes.hpp"
#include "imx/data/image_codec.hpp"
#include "imx/data/load.hpp"
#include "imx/data/loader.hpp"

using namespace imx::data;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Random-noise images with the given shape.
Dataset noise_dataset(std::size_t n, int c, int h, int w, std::uint64_t seed) {
  Dataset data;
  data.name = "synthetic";
  data.channels = c;
  data.height = h;
  data.width = w;
  data.pixels.resize(n * data.image_bytes());
  std::mt19937_64 rng(seed);
  for (auto& byte : data.pixels) byte = static_cast<std::uint8_t>(rng());
  data.class_names = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  for (std::size_t i = 0; i < n; ++i) data.labels.push_back(static_cast<std::int32_t>(i % 10));
  return data;
}

// Repeats `body` (which processes `images_per_call` images) until `budget` seconds have passed.
template <class Body>
double images_per_second(double budget, std::size_t images_per_call, Body&& body) {
  body();  // warm-up
  std::size_t images = 0;
  const auto start = Clock::now();
  do {
    body();
    images += images_per_call;
  } while (seconds_since(start) < budget);
  return static_cast<double>(images) / seconds_since(start);
}

// Baseline: one thread, batch by batch, the least work the pipeline must do per image
// (get the bytes — copied, or decoded for an encoded data set — then scale to float).
double baseline(const Dataset& data, std::size_t batch, double budget) {
  std::vector<float> out(batch * data.image_bytes());
  std::vector<std::uint8_t> bytes(data.image_bytes());
  std::size_t next = 0;
  return images_per_second(budget, batch, [&] {
    for (std::size_t j = 0; j < batch; ++j, next = (next + 1) % data.size()) {
      data.copy_image(next, bytes.data());
      scale_to_unit_range(bytes.data(), bytes.size(), out.data() + j * bytes.size());
    }
  });
}

double pipeline(const Dataset& data, unsigned workers, const AugmentConfig& augment, std::size_t batch,
                double budget) {
  LoaderOptions options;
  options.batch_size = batch;
  options.workers = workers;
  options.prefetch = 8;
  options.augment = augment;
  Loader loader(data, options);
  float sink = 0;
  const double rate = images_per_second(budget, batch, [&] {
    auto next = loader.next();
    if (!next) next = loader.next();  // epoch boundary
    sink += next->images[0];          // the consumer touches the batch
  });
  if (sink == 12345.f) std::puts("");  // keep `sink` alive
  return rate;
}

// The best float GEMM throughput (FLOP/s) on this machine: the faster of Eigen and OpenBLAS on
// a 1024³ product (larger and squarer than any encoder layer, so near their peak).
double gemm_flops(double budget) {
  const int n = 1024;
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
  const double per_call = 2.0 * n * n * n;
  const double eigen = images_per_second(budget, 1, [&] { c.noalias() = a * b; }) * per_call;
  const double openblas = images_per_second(budget, 1, [&] {
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
  }) * per_call;
  std::printf("\nfloat GEMM 1024^3: Eigen %.1f GFLOP/s, OpenBLAS %.1f GFLOP/s\n", eigen / 1e9, openblas / 1e9);
  return std::max(eigen, openblas);
}

// Forward multiply-adds of the 32x32 DIM encoder (dim-reference.md §2), as GEMMs:
// conv k4 s2: 3->64 (16x16 out), 64->128 (8x8), 128->256 (4x4); linear 4096->1024, 1024->64.
constexpr double kEncoderForwardMacs =
    16.0 * 16 * 64 * (3 * 16) + 8.0 * 8 * 128 * (64 * 16) + 4.0 * 4 * 256 * (128 * 16) + 4096.0 * 1024 + 1024.0 * 64;
// Forward + backward (input and weight gradients) = 3 products of the forward's size.
constexpr double kEncoderStepFlops = 3 * 2 * kEncoderForwardMacs;

struct Row {
  std::string name;
  double rate;
  double base;
};

void print(const std::string& title, const std::vector<Row>& rows) {
  std::printf("\n%s\n", title.c_str());
  std::printf("  %-52s %12s %10s\n", "case", "images/s", "x baseline");
  for (const auto& r : rows) std::printf("  %-52s %12.0f %10.2f\n", r.name.c_str(), r.rate, r.rate / r.base);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dim-bench-data: images/s of the input pipeline alone (CIFAR-shaped and 64x64 JPEG data), "
               "with 1 and 2 worker threads, beside a single-threaded copy/decode+scale baseline and a CPU "
               "training-step proxy measured in the same run."};
  double budget = 1.0;
  std::size_t cifar_images = 10000, jpeg_images = 2000, batch = 64;
  app.add_option("--seconds", budget, "time per measurement")->capture_default_str();
  app.add_option("--cifar-images", cifar_images, "synthetic 3x32x32 images")->capture_default_str();
  app.add_option("--jpeg-images", jpeg_images, "synthetic 64x64 JPEG files")->capture_default_str();
  app.add_option("--batch", batch, "batch size")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::printf("dim-bench-data: %u hardware threads, batch %zu, %.1f s per measurement\n",
              std::thread::hardware_concurrency(), batch, budget);

  // ---- CIFAR-shaped ----
  const Dataset cifar = noise_dataset(cifar_images, 3, 32, 32, 1);
  AugmentConfig cifar_augment;
  cifar_augment.crop_padding = 4;
  cifar_augment.hflip = true;
  const double cifar_base = baseline(cifar, batch, budget);
  std::vector<Row> cifar_rows = {{"baseline: copy + scale, 1 thread, no pipeline", cifar_base, cifar_base}};
  for (unsigned w : {1u, 2u})
    cifar_rows.push_back({"pipeline, no augmentation, " + std::to_string(w) + " worker(s)",
                          pipeline(cifar, w, {}, batch, budget), cifar_base});
  for (unsigned w : {1u, 2u})
    cifar_rows.push_back({"pipeline, pad-4 random crop + flip, " + std::to_string(w) + " worker(s)",
                          pipeline(cifar, w, cifar_augment, batch, budget), cifar_base});
  print("CIFAR-shaped 3x32x32 (" + std::to_string(cifar_images) + " images in memory)", cifar_rows);

  // ---- 64x64 JPEG files as a folder: data set, decoded by the workers ----
  const auto dir = std::filesystem::temp_directory_path() / ("imx-bench-jpeg-" + std::to_string(::getpid()));
  {
    const Dataset source = noise_dataset(jpeg_images, 3, 64, 64, 2);
    // Smooth the noise (3x3 box) so the files resemble photos more than static.
    for (std::size_t i = 0; i < jpeg_images; ++i) {
      std::vector<std::uint8_t> image(source.image_bytes());
      source.copy_image(i, image.data());
      for (int k = 0; k < 3; ++k)
        for (int y = 1; y < 63; ++y)
          for (int x = 1; x < 63; ++x) {
            int sum = 0;
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) sum += image[(k * 64 + y + dy) * 64 + x + dx];
            image[(k * 64 + y) * 64 + x] = static_cast<std::uint8_t>(sum / 9);
          }
      const auto folder = dir / ("class" + std::to_string(i % 10));
      std::filesystem::create_directories(folder);
      write_file((folder / (std::to_string(i) + ".jpg")).string(), encode_jpeg(image.data(), 3, 64, 64, 90));
    }
  }
  LoadOptions deferred;
  deferred.decode_images = false;
  const Splits jpeg = load_dataset("folder:" + dir.string(), deferred);
  std::filesystem::remove_all(dir);
  AugmentConfig jpeg_augment;
  jpeg_augment.crop_padding = 4;
  jpeg_augment.hflip = true;
  const double jpeg_base = baseline(jpeg.train, batch, budget);
  std::vector<Row> jpeg_rows = {{"baseline: decode + scale, 1 thread, no pipeline", jpeg_base, jpeg_base}};
  for (unsigned w : {1u, 2u})
    jpeg_rows.push_back({"pipeline, decode, " + std::to_string(w) + " worker(s)",
                         pipeline(jpeg.train, w, {}, batch, budget), jpeg_base});
  for (unsigned w : {1u, 2u})
    jpeg_rows.push_back({"pipeline, decode + pad-4 crop + flip, " + std::to_string(w) + " worker(s)",
                         pipeline(jpeg.train, w, jpeg_augment, batch, budget), jpeg_base});
  print("64x64 JPEG files (" + std::to_string(jpeg_images) + " files, decoded in the workers)", jpeg_rows);

  // ---- how fast could a CPU training step consume images? ----
  const double flops = gemm_flops(budget);
  const double step_rate = flops / kEncoderStepFlops;
  std::printf("CPU training-step proxy: %.1f GFLOP/s / %.0f MFLOP per image (DIM 32x32 encoder forward+backward "
              "only)\n  = at most %.0f images/s; the CIFAR pipeline with 1 worker delivers %.0fx that (%.0fx with "
              "augmentation)\n",
              flops / 1e9, kEncoderStepFlops / 1e6, step_rate, cifar_rows[1].rate / step_rate,
              cifar_rows[3].rate / step_rate);
  return 0;
}
