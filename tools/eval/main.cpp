// dim-eval: what a dim-train checkpoint's encoder learned, beside what it would score untrained.
// Orchestration only; every measurement lives in evaluation/ (imx_eval).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>

#include "distributed/data_parallel.h"
#include "engine/runtime.h"
#include "evaluation/baselines.h"
#include "evaluation/batch_norm_stats.h"
#include "evaluation/budget.h"
#include "evaluation/dependency.h"
#include "evaluation/export.h"
#include "evaluation/features.h"
#include "evaluation/knn.h"
#include "evaluation/linear_probe.h"
#include "evaluation/mlp_probe.h"
#include "evaluation/neighbours.h"
#include "evaluation/report.h"
#include "evaluation/rows.h"
#include "imx/data/load.hpp"
#include "models/deep_infomax.h"
#include "tools/train/trainer.h"

using namespace imx;

namespace {

const char* kDescription =
    "dim-eval: evaluates the encoder of a dim-train checkpoint and, in the same table, the same "
    "architecture untrained, so the numbers say what DIM learned.\n\n"
    "Rows: conv (flattened), fc and Y features of three models -- DIM (the checkpoint), 'random init' "
    "(built from the checkpoint's config and seed, weights never trained, batch-norm statistics as "
    "initialized) and 'random init + BN stats' (the same weights, batch-norm running statistics "
    "re-estimated as plain averages over the training images) -- and the raw pixels. Columns: test "
    "accuracy of the paper's MLP probe (linear 200, dropout 0.1, BN, ReLU, linear), of a linear "
    "probe (logistic regression on standardized features) and of a k-NN classifier (cosine, k=20, "
    "votes exp(sim/0.07)). Then per model, as DV lower bounds in nats on the test split: NDM (a "
    "1000-200-1 critic telling Y from Y shuffled per dimension: total correlation of Y) and MINE "
    "I(X;Y) (a critic on [pixels; Y] telling pairs from shuffled pairs). The MLP probe is not run on pixels.\n\n"
    "--budget full follows the reference (MLP probe 150 epochs, Adam 1e-4, x0.1 at 50 and 100); "
    "--budget quick fits Fashion-MNIST (60,000 / 10,000 images) with every baseline into a few minutes on 2 CPU cores. Each budget flag "
    "below overrides the preset; the table prints the budget used.";

struct Flags {
  std::string checkpoint, data, device = "cpu", json, export_dir, neighbours_png, budget = "full";
  uint64_t seed = 1;
  int64_t limit_train = 0, limit_test = 0, batch = 64, knn_k = 20, neighbour_queries = 10, neighbour_k = 8;
  double knn_temperature = 0.07, dependency_lr = 1e-4, progress_seconds = 5, collective_timeout = 300;
  int64_t dependency_batch = 256;
  std::vector<int64_t> mine_hidden{512, 512};
  bool no_baselines = false;
  eval::Budget overrides;  // only the fields whose flag was given are applied
};

// The preset, then every budget flag given on the command line.
eval::Budget budget_from(const CLI::App& app, const Flags& f) {
  eval::Budget b = eval::budget_preset(f.budget);
  const eval::Budget& o = f.overrides;
  auto given = [&](const char* flag) { return app.count(flag) > 0; };
  if (given("--probe-epochs")) {
    b.probe_epochs = o.probe_epochs;
    b.probe_milestones = eval::scaled_milestones(o.probe_epochs);
  }
  if (given("--probe-milestones")) b.probe_milestones = o.probe_milestones;
  if (given("--probe-lr")) b.probe_lr = o.probe_lr;
  if (given("--linear-epochs")) {
    b.linear_epochs = o.linear_epochs;
    b.linear_milestones = eval::scaled_milestones(o.linear_epochs);
  }
  if (given("--linear-milestones")) b.linear_milestones = o.linear_milestones;
  if (given("--linear-lr")) b.linear_lr = o.linear_lr;
  if (given("--knn-queries")) b.knn_queries = o.knn_queries;
  if (given("--dependency-steps")) b.dependency_steps = o.dependency_steps;
  if (given("--bn-images")) b.bn_images = o.bn_images;
  for (const char* flag : {"--probe-epochs", "--probe-milestones", "--probe-lr", "--linear-epochs",
                           "--linear-milestones", "--linear-lr", "--knn-queries", "--dependency-steps", "--bn-images"})
    if (given(flag)) b.preset = f.budget + " (with overrides)";
  return b;
}

void add_flags(CLI::App& app, Flags& f) {
  eval::Budget& o = f.overrides;
  app.add_option("checkpoint", f.checkpoint, "A dim-train checkpoint (OUT/checkpoint.safetensors)")->required();
  app.add_option("--data", f.data, "Dataset as KIND:PATH (default: the one the checkpoint was trained on)");
  app.add_option("--device", f.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  app.add_option("--seed", f.seed, "Seed of the probes, the dependency critics and their shuffles")->capture_default_str();
  app.add_option("--limit-train", f.limit_train, "Use only the first N training images (0 = all)")->capture_default_str();
  app.add_option("--limit-test", f.limit_test, "Use only the first N test images (0 = all)")->capture_default_str();
  app.add_option("--budget", f.budget, "Preset of every budget below: full or quick")
      ->check(CLI::IsMember(eval::budget_presets()))
      ->capture_default_str();
  app.add_option("--probe-epochs", o.probe_epochs,
                 "MLP probe epochs (full 150, quick 2; 0 = skip); the lr drops at 50 and 100 of 150 scaled to N, unless --probe-milestones");
  app.add_option("--probe-milestones", o.probe_milestones, "MLP probe epochs at which lr drops x0.1 (full: 50 100)")
      ->expected(0, -1);
  app.add_option("--probe-lr", o.probe_lr, "MLP probe Adam learning rate (full 1e-4, quick 1e-3)");
  app.add_option("--linear-epochs", o.linear_epochs,
                 "Linear probe epochs (full 30, quick 2; 0 = skip); lr drops scaled as for the MLP probe");
  app.add_option("--linear-milestones", o.linear_milestones, "Linear probe lr drops x0.1 (full: 10 20)")->expected(0, -1);
  app.add_option("--linear-lr", o.linear_lr, "Linear probe Adam learning rate (full and quick 1e-3)");
  app.add_option("--batch", f.batch, "Batch size of both probes")->capture_default_str();
  app.add_option("--knn-queries", o.knn_queries,
                 "Test images the k-NN classifies, from the first (full 0 = all, quick 2000; -1 = skip)");
  app.add_option("--knn-k", f.knn_k, "Neighbours that vote")->capture_default_str();
  app.add_option("--knn-temperature", f.knn_temperature, "Vote weight exp(similarity / T)")->capture_default_str();
  app.add_option("--dependency-steps", o.dependency_steps,
                 "Adam steps of the NDM and of the MINE critic, each (full 2000, quick 300; 0 = skip)");
  app.add_option("--dependency-lr", f.dependency_lr, "Their Adam learning rate")->capture_default_str();
  app.add_option("--dependency-batch", f.dependency_batch, "Their batch size")->capture_default_str();
  app.add_option("--mine-hidden", f.mine_hidden, "Hidden widths of the MINE critic")->capture_default_str();
  app.add_option("--bn-images", o.bn_images,
                 "Training images whose batches of 64 estimate the baseline's BN statistics (full 0 = all, quick 10000)");
  app.add_flag("--no-baselines", f.no_baselines, "Evaluate only the checkpoint's encoder (no random-init rows, no pixels)");
  app.add_option("--json", f.json, "Also write the table as JSON to this file");
  app.add_option("--export", f.export_dir,
                 "Write the checkpoint encoder's train/test conv, fc, y features (float32) and labels (int32) as .npy here");
  app.add_option("--neighbours", f.neighbours_png,
                 "Write a PNG: a test image of each class, then its nearest training images in Y space");
  app.add_option("--neighbours-queries", f.neighbour_queries, "Rows of that picture (first the first test image of each class)")->capture_default_str();
  app.add_option("--neighbours-k", f.neighbour_k, "Neighbours per row")->capture_default_str();
  app.add_option("--progress-seconds", f.progress_seconds, "Seconds between progress lines")->capture_default_str();
  app.add_option("--collective-timeout", f.collective_timeout,
                 "Under mpirun: seconds a rank waits in one exchange of features before it ends the job")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.footer("Data-parallel: mpirun -np N dim-eval ... extracts the features of each model on N ranks (each its "
             "shard of the images; one GPU each with --device cuda); rank 0 receives them, trains the probes "
             "and writes every output while the other ranks wait idle.");
}

// Everything one encoder's rows need, shared by the three models.
struct Context {
  const Flags& flags;
  dist::Group& group;
  eval::Budget budget;
  Device device;
  int64_t classes;
  eval::Labeled pixels_train, pixels_test;
  eval::Report report;

  eval::BatchOptions batches(const std::string& label) const {
    eval::BatchOptions o;
    o.device = device;
    o.progress_label = label;
    o.progress_seconds = flags.progress_seconds;
    return o;
  }
  eval::TrainingOptions probe(int64_t epochs, double lr, const std::vector<int64_t>& milestones, uint64_t seed,
                              const std::string& label) const {
    return {epochs, lr, flags.batch, milestones, 0.1, seed, device, label, flags.progress_seconds};
  }
  eval::KnnOptions knn(const std::string& label) const {
    eval::KnnOptions o;
    o.k = flags.knn_k;
    o.temperature = flags.knn_temperature;
    o.device = device;
    o.progress_label = label;
    o.progress_seconds = flags.progress_seconds;
    return o;
  }
  eval::DvOptions dv(const std::vector<int64_t>& hidden, const std::string& label) const {
    return {budget.dependency_steps, flags.dependency_batch, flags.dependency_lr, hidden, flags.seed, device, label,
            flags.progress_seconds};
  }
  // The first --knn-queries test rows.
  eval::Labeled knn_queries(const eval::Labeled& test) const {
    eval::Labeled q{eval::first_rows(test.x, budget.knn_queries), test.labels};
    q.labels.resize(static_cast<size_t>(q.x.size(0)));
    return q;
  }
};

// The three columns of one feature set; probes of the same feature set share their seed across
// models, so the rows differ only in the features.
eval::AccuracyRow accuracy_row(const Context& c, const std::string& features, const std::string& model,
                               const eval::Labeled& train, const eval::Labeled& test, bool mlp, uint64_t seed) {
  const eval::Budget& b = c.budget;
  const std::string tag = features + " (" + eval::model_title(model) + ")";
  eval::AccuracyRow row{features, model, {}, {}, {}};
  if (mlp && b.probe_epochs > 0)
    row.mlp = eval::mlp_probe_accuracy(train, test, c.classes,
                                       c.probe(b.probe_epochs, b.probe_lr, b.probe_milestones, seed, "MLP probe " + tag));
  if (b.linear_epochs > 0)
    row.linear = eval::linear_probe_accuracy(
        train, test, c.classes, c.probe(b.linear_epochs, b.linear_lr, b.linear_milestones, seed, "linear probe " + tag));
  if (b.knn_queries >= 0) row.knn = eval::knn_accuracy(train, c.knn_queries(test), c.classes, c.knn("k-NN " + tag));
  std::printf("%s: MLP probe %s, linear probe %s, k-NN %s\n", tag.c_str(), eval::percent(row.mlp).c_str(),
              eval::percent(row.linear).c_str(), eval::percent(row.knn).c_str());
  std::fflush(stdout);
  return row;
}

struct SplitFeatures {
  eval::Features train, test;
};

// Features, then rows and dependency measures, of one encoder.
SplitFeatures evaluate_encoder(Context& c, const std::string& model, models::Encoder& encoder,
                               const data::Dataset& train, const data::Dataset& test) {
  const std::string title = eval::model_title(model);
  // With several ranks they extract together, then rank 0 alone measures while the others
  // wait for the next extraction here, idle (rank 0's probes can take many minutes).
  if (c.group.size() > 1) c.group.host().idle_barrier();
  SplitFeatures f{eval::extract_features(encoder, train, c.batches("features train (" + title + ")"), c.group),
                  eval::extract_features(encoder, test, c.batches("features test (" + title + ")"), c.group)};
  if (!c.group.is_root()) return f;
  const eval::Features &tr = f.train, &te = f.test;
  uint64_t seed = c.flags.seed;
  for (const auto& [name, a, b] : {std::tuple{"conv", &tr.conv, &te.conv}, {"fc", &tr.fc, &te.fc}, {"y", &tr.y, &te.y}})
    c.report.rows.push_back(accuracy_row(c, name, model, tr.of(*a), te.of(*b), true, seed += 100));
  if (c.budget.dependency_steps > 0) {
    eval::DependencyRow d{model, {}, {}};
    d.ndm = eval::neural_dependency_measure(tr.y, te.y, c.dv({1000, 200}, "NDM (" + title + ")"));
    d.mine = eval::mine_mutual_information(c.pixels_train.x, tr.y, c.pixels_test.x, te.y,
                                           c.dv(c.flags.mine_hidden, "MINE (" + title + ")"));
    std::printf("%s: NDM %.4f nats, MINE I(X;Y) %.4f nats\n", title.c_str(), *d.ndm, *d.mine);
    c.report.dependency.push_back(d);
  }
  return f;
}

// The picture of the checkpoint encoder's neighbours in Y space.
void write_neighbours(const Flags& f, const Context& c, const data::Dataset& train, const data::Dataset& test,
                      const SplitFeatures& features) {
  const std::vector<uint32_t> queries = eval::one_query_per_class(features.test.labels, c.classes, f.neighbour_queries);
  eval::KnnOptions o = c.knn("");
  o.k = f.neighbour_k;
  const eval::Neighbours nb = eval::nearest_neighbours(features.train.y, eval::gather_rows(features.test.y, queries), o);
  eval::write_png(f.neighbours_png, eval::neighbour_grid(train, test, queries, nb));
  std::printf("wrote %s: %zu test images, each followed by its %lld nearest training images in Y space\n",
              f.neighbours_png.c_str(), queries.size(), static_cast<long long>(f.neighbour_k));
}

// Sorts the rows by feature set (conv, fc, y, pixels), keeping the model order within each.
void group_rows(eval::Report& r) {
  auto rank = [](const std::string& f) { return f == "conv" ? 0 : f == "fc" ? 1 : f == "y" ? 2 : 3; };
  std::stable_sort(r.rows.begin(), r.rows.end(),
                   [&](const auto& a, const auto& b) { return rank(a.features) < rank(b.features); });
}

int run(const CLI::App& app, const Flags& f) {
  const auto start = std::chrono::steady_clock::now();
  const Device dev = f.device == "cuda" ? Device::CUDA : Device::CPU;
  const auto group = dist::Group::create(dev, f.collective_timeout);
  share_cores_between_local_ranks(group->local_size());
  const bool root = group->is_root();
  if (!root && !std::freopen("/dev/null", "w", stdout)) throw Error("dim-eval: cannot silence a rank");
  const auto trained = models::DeepInfoMax::load(f.checkpoint, dev);
  const train::CheckpointInfo info = train::checkpoint_info(f.checkpoint);
  const std::string spec = f.data.empty() ? info.data : f.data;
  check(!spec.empty(), "dim-eval", f.checkpoint + " names no data set; pass --data KIND:PATH");
  data::LoadOptions lo;
  lo.load_unlabeled = false;
  const data::Splits splits = data::load_dataset(spec, lo);
  const data::Dataset train = train::first_images(splits.train, f.limit_train);
  const data::Dataset test = train::first_images(splits.test, f.limit_test);

  Context c{f, *group, budget_from(app, f), dev, static_cast<int64_t>(train.class_names.size()), {}, {}, {}};
  check(c.classes >= 2, "dim-eval", spec + ": the probes need labelled data with >= 2 classes");
  for (const auto* d : {&train, &test})
    for (int32_t l : d->labels)
      check(l >= 0, "dim-eval", d->name + " has unlabeled images; the probes need a label for every image");
  c.report.checkpoint = f.checkpoint;
  c.report.data = spec;
  c.report.encoder_epoch = info.epoch;
  c.report.train_images = static_cast<int64_t>(train.size());
  c.report.test_images = static_cast<int64_t>(test.size());
  c.report.classes = c.classes;
  c.report.budget = c.budget;
  c.report.knn_k = f.knn_k;
  c.report.knn_temperature = f.knn_temperature;
  std::printf("dim-eval: %s (epoch %lld), %zu train / %zu test images of %s\nbudget %s\n", f.checkpoint.c_str(),
              static_cast<long long>(info.epoch), train.size(), test.size(), spec.c_str(),
              eval::describe(c.budget).c_str());
  std::fflush(stdout);

  const models::EncoderSpec& arch = trained->encoder().spec();
  check(train.channels == arch.channels, "dim-eval",
        spec + " has " + std::to_string(train.channels) + "-channel images; the checkpoint's " + arch.name +
            " encoder takes " + std::to_string(arch.channels));
  const int64_t size = arch.size;
  eval::BatchOptions pixel_batches = c.batches("");
  pixel_batches.resize_to = eval::resize_for(train, size);
  if (root && (c.budget.dependency_steps > 0 || !f.no_baselines)) {
    c.pixels_train = eval::pixel_features(train, pixel_batches);
    c.pixels_test = eval::pixel_features(test, pixel_batches);
  }

  {
    const SplitFeatures dim = evaluate_encoder(c, eval::kTrained, trained->encoder(), train, test);
    if (root && !f.export_dir.empty())
      for (const auto& [split, feats] : {std::pair{"train", &dim.train}, {"test", &dim.test}})
        for (const std::string& path : eval::export_features(f.export_dir, split, *feats))
          std::printf("wrote %s\n", path.c_str());
    if (root && !f.neighbours_png.empty()) write_neighbours(f, c, train, test, dim);
  }  // the checkpoint's features are released before the baselines extract theirs

  if (!f.no_baselines) {
    const auto random = eval::untrained_copy(*trained, dev);
    evaluate_encoder(c, eval::kRandom, random->encoder(), train, test);

    const auto random_bn = eval::untrained_copy(*trained, dev);
    if (root) {
      const int64_t batches = eval::estimate_batch_norm_statistics(
          random_bn->encoder(), train::first_images(train, c.budget.bn_images), [&] {
            eval::BatchOptions o = c.batches("BN statistics (random init)");
            o.batch = 64;  // the training batch size, whose statistics the trained model's BN saw
            return o;
          }());
      std::printf("BN statistics of the random-init encoder: averages over %lld batches of 64\n",
                  static_cast<long long>(batches));
    }
    if (group->size() > 1) {  // rank 0's statistics to the others, for their shards
      group->host().idle_barrier();
      dist::broadcast_state(random_bn->encoder(), *group);
    }
    evaluate_encoder(c, eval::kRandomBn, random_bn->encoder(), train, test);

    if (!root) return 0;
    c.report.rows.push_back(accuracy_row(c, "pixels", eval::kPixels, c.pixels_train, c.pixels_test, false, f.seed));
  }
  if (!root) return 0;
  group_rows(c.report);
  c.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\n%s", eval::format_report(c.report).c_str());
  if (!f.json.empty()) {
    eval::write_json(c.report, f.json);
    std::printf("wrote %s\n", f.json.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  prefer_passive_openmp(argv);
  CLI::App app{kDescription};
  Flags flags;
  add_flags(app, flags);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(app, flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dim-eval: error: %s\n", e.what());
    return 1;
  }
}
