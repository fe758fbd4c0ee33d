// DIM's networks and the DeepInfoMax model: output shapes, the concat critics against an
// explicit concatenation computed by loops, the coordinate head's labels, occlusion, configs,
// checkpoint round trips and refused combinations.
#include <catch.hpp>
#include <cmath>

#include "engine/autograd.h"
#include "engine/optim.h"
#include "engine/random.h"
#include "engine/safetensors.h"
#include "models/deep_infomax.h"

using namespace imx;
using models::DimConfig;

namespace {

Tensor random(const Shape& s, uint64_t seed, DType dt = DType::F64) {
  Generator gen(seed);
  return uniform(s, -1, 1, gen, dt);
}

// Parameter of `m` by name, as doubles.
std::vector<double> param(const nn::Module& m, const std::string& name) {
  for (auto& [n, p] : m.named_parameters())
    if (n == name) return p.to_vector();
  FAIL("no parameter " << name);
  return {};
}

DimConfig small(const std::string& arch = "mnist28") {
  DimConfig c;
  c.arch = arch;
  c.mi_units = 16;
  c.concat_units = 8;
  return c;
}

}  // namespace

TEST_CASE("critics and heads give the documented shapes", "[models]") {
  Generator gen(1);
  const int64_t n = 3, c = 5, m = 4, y = 7, u = 6;
  const Tensor map = random({n, c, m, m}, 2, DType::F32), yv = random({n, y}, 3, DType::F32);
  models::DotCritic dot(c, y, u, gen);
  CHECK(dot.encode_local(map).shape() == Shape{n, m * m, u});
  CHECK(dot.encode_global(yv).shape() == Shape{n, 1, u});
  models::ConcatLocalCritic concat(c, y, u, gen);
  CHECK(concat.scores(map, yv).shape() == Shape{n, n * m * m});
  models::GlobalDotCritic gdot(c, m, y, u, gen);
  CHECK(gdot.encode_map(map).shape() == Shape{n, 1, u});
  CHECK(gdot.encode_global(yv).shape() == Shape{n, u});
  models::GlobalConcatCritic gcat(c, m, y, u, gen);
  CHECK(gcat.scores(map, yv).shape() == Shape{n, n});
  models::CoordinatePredictor coord(c, m, y, u, gen);
  CHECK(coord.logits(map, yv).shape() == Shape{n * m * m, 2 * m});
  CHECK(coord.loss(map, yv).numel() == 1);
  models::PriorDiscriminator prior(y, gen);
  CHECK(prior.forward(yv).shape() == Shape{n, 1});
  CHECK_THROWS_WITH(concat.scores(map, random({n + 1, y}, 4, DType::F32)), Catch::Contains("ConcatLocalCritic"));
  CHECK_THROWS_WITH(coord.logits(random({n, c, m + 1, m + 1}, 5, DType::F32), yv), Catch::Contains("CoordinatePredictor"));
}

TEST_CASE("the concat local critic equals scoring each explicit concatenation", "[models]") {
  Generator gen(2);
  const int64_t n = 3, c = 4, m = 2, y = 3, u = 5, p = m * m;
  models::ConcatLocalCritic critic(c, y, u, gen);
  critic.to(DType::F64);
  const Tensor map = random({n, c, m, m}, 6), yv = random({n, y}, 7);
  const std::vector<double> s = critic.scores(map, yv).to_vector();
  const auto wl = param(critic, "local_proj.weight"), wy = param(critic, "global_proj.weight"),
             b1 = param(critic, "global_proj.bias"), w2 = param(critic, "scorer.hidden.weight"),
             b2 = param(critic, "scorer.hidden.bias"), w3 = param(critic, "scorer.out.weight"),
             b3 = param(critic, "scorer.out.bias");
  const auto mv = map.to_vector(), yy = yv.to_vector();
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)       // Y of image i
    for (int64_t j = 0; j < n; ++j)     // map of image j
      for (int64_t q = 0; q < p; ++q) {  // location q
        // The first layer over the concatenation [l; y] with weight [W_l | W_y].
        std::vector<double> h1(u), h2(u);
        for (int64_t k = 0; k < u; ++k) {
          double z = b1[k];
          for (int64_t ch = 0; ch < c; ++ch) z += wl[k * c + ch] * mv[(j * c + ch) * p + q];
          for (int64_t d = 0; d < y; ++d) z += wy[k * y + d] * yy[i * y + d];
          h1[k] = std::max(z, 0.0);
        }
        double score = b3[0];
        for (int64_t k = 0; k < u; ++k) {
          double z = b2[k];
          for (int64_t l = 0; l < u; ++l) z += w2[k * u + l] * h1[l];
          h2[k] = std::max(z, 0.0);
          score += w3[k] * h2[k];
        }
        worst = std::max(worst, std::abs(score - s[i * n * p + j * p + q]));
      }
  CHECK(worst < 1e-12);
}

TEST_CASE("coordinate prediction's loss is CE(row) + CE(col) of each location", "[models]") {
  Generator gen(3);
  const int64_t n = 2, c = 3, m = 3, y = 4, u = 5;
  models::CoordinatePredictor head(c, m, y, u, gen);
  head.to(DType::F64);
  const Tensor map = random({n, c, m, m}, 8), yv = random({n, y}, 9);
  const std::vector<double> z = head.logits(map, yv).to_vector();
  double expected = 0;
  for (int64_t r = 0; r < n * m * m; ++r) {
    const int64_t row = (r % (m * m)) / m, col = r % m;
    for (int64_t part = 0; part < 2; ++part) {
      const double* l = z.data() + r * 2 * m + part * m;
      double mx = l[0], se = 0;
      for (int64_t k = 1; k < m; ++k) mx = std::max(mx, l[k]);
      for (int64_t k = 0; k < m; ++k) se += std::exp(l[k] - mx);
      expected += (mx + std::log(se) - l[part == 0 ? row : col]) / (n * m * m);
    }
  }
  CHECK(head.loss(map, yv).item() == Approx(expected).epsilon(1e-12));
}

TEST_CASE("occlusion squares are deterministic per (seed, step) and follow the scheme", "[models]") {
  models::OcclusionSpec spec;  // p 0.5, half the side, fill 0
  const Tensor a = models::occlusion_mask(400, 28, 28, spec, 1, 5), b = models::occlusion_mask(400, 28, 28, spec, 1, 5);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != models::occlusion_mask(400, 28, 28, spec, 1, 6).to_vector());
  CHECK(a.to_vector() != models::occlusion_mask(400, 28, 28, spec, 2, 5).to_vector());
  const std::vector<double> v = a.to_vector();
  int occluded = 0;
  for (int i = 0; i < 400; ++i) {
    int zeros = 0;
    for (int k = 0; k < 28 * 28; ++k) zeros += v[i * 784 + k] == 0.0;
    CHECK((zeros == 0 || zeros == 14 * 14));  // one 14x14 square or none
    occluded += zeros > 0;
  }
  CHECK(occluded > 160);  // ~200 of 400 at p = 0.5 (binomial sd 10)
  CHECK(occluded < 240);
  spec.fill = 0.25;
  const Tensor x = Tensor::full({400, 2, 28, 28}, 1.0);
  const std::vector<double> o = models::occlude(x, spec, 1, 5).to_vector();
  for (int i = 0; i < 400; ++i)
    for (int ch = 0; ch < 2; ++ch)
      for (int k = 0; k < 784; ++k) {
        const double want = v[i * 784 + k] == 0.0 ? 0.25 : 1.0;
        if (o[(i * 2 + ch) * 784 + k] != Approx(want)) FAIL("pixel " << k << " of image " << i);
      }
  spec.probability = 1.5;
  CHECK_THROWS_WITH(models::occlusion_mask(1, 4, 4, spec, 1, 0), Catch::Contains("probability"));
}

TEST_CASE("configs round-trip through JSON; presets set the paper's weights", "[models]") {
  DimConfig c = small("dcgan32");
  models::apply_preset(c, "dim-g");
  CHECK((c.alpha == 1 && c.beta == 0 && c.gamma == 1));
  models::apply_preset(c, "dim-l");
  CHECK((c.alpha == 0 && c.beta == 1 && c.gamma == 0.1));
  models::apply_preset(c, "dim-lg");
  CHECK((c.alpha == 0.5 && c.beta == 1));
  CHECK_THROWS_WITH(models::apply_preset(c, "dim-x"), Catch::Contains("--preset"));
  c.estimator = mi::Estimator::infonce;
  c.local_critic = models::LocalCritic::concat;
  c.global_critic = models::GlobalCritic::concat;
  c.concat_negatives = 3;
  c.coord = 0.5;
  c.occlude = true;
  c.occlusion.size = 0.25;
  c.seed = 99;
  const DimConfig d = DimConfig::from_json(c.to_json());
  CHECK(d.to_json() == c.to_json());
  CHECK(d.estimator == mi::Estimator::infonce);
  CHECK(d.occlusion.size == 0.25);
  CHECK_THROWS_WITH(DimConfig::from_json("{\"arch\": 3}"), Catch::Contains("unreadable model settings"));
}

TEST_CASE("bad combinations are refused, naming the flags", "[models]") {
  auto refused = [](auto edit, const char* words) {
    DimConfig c = small();
    edit(c);
    CHECK_THROWS_WITH(models::DeepInfoMax(c), Catch::Contains(words));
  };
  refused([](DimConfig& c) { c.alpha = 0, c.beta = 0; }, "--alpha and --beta are both 0");
  refused([](DimConfig& c) { c.concat_negatives = 3; }, "--concat-negatives");
  refused([](DimConfig& c) { c.gamma = -1; }, "--gamma");
  refused([](DimConfig& c) { c.coord = std::nan(""); }, "--coord");
  refused([](DimConfig& c) { c.mi_units = 0; }, "--mi-units");
  refused([](DimConfig& c) { c.occlude = true, c.occlusion.size = 0; }, "size");
  DimConfig c = small();
  c.local_critic = models::LocalCritic::concat;
  c.concat_negatives = 2;
  models::DeepInfoMax dim(c);
  CHECK_THROWS_WITH(dim.encoder_loss(random({4, 1, 28, 28}, 1, DType::F32), 0), Catch::Contains("--concat-negatives"));
  DimConfig no_prior = small();
  no_prior.gamma = 0;
  models::DeepInfoMax without(no_prior);
  CHECK_THROWS_WITH(without.discriminator_loss(random({2, 64}, 1, DType::F32), 0), Catch::Contains("gamma"));
}

TEST_CASE("the model owns the configured networks and returns the configured terms", "[models]") {
  DimConfig c = small();
  c.alpha = 0.5, c.coord = 1, c.gamma = 0.1;
  models::DeepInfoMax dim(c);
  const auto step = dim.encoder_loss(random({4, 1, 28, 28}, 2, DType::F32), 0);
  std::vector<std::string> names;
  for (const auto& t : step.objective.terms()) names.push_back(t.name);
  CHECK(names == std::vector<std::string>{"local", "global", "prior", "coord"});
  CHECK(step.features.y.shape() == Shape{4, 64});
  double weighted = 0;
  for (const auto& t : step.objective.terms()) weighted += t.weight * t.value.item();
  CHECK(step.objective.total().item() == Approx(weighted).epsilon(1e-6));
  const auto disc = dim.discriminator_loss(step.features.y, 0);
  CHECK(disc.has("disc"));
  CHECK(disc.term("penalty").item() > 0);
  // The discriminator trains apart: its parameters are not the encoder optimizer's.
  size_t prior_params = 0;
  for (auto& [name, p] : dim.named_parameters()) prior_params += name.rfind("prior.", 0) == 0;
  CHECK(dim.discriminator_parameters().size() == prior_params);
  CHECK(dim.encoder_parameters().size() + prior_params == dim.parameters().size());
}

TEST_CASE("a model rebuilt from a checkpoint gives bit-identical outputs", "[models]") {
  DimConfig c = small();
  c.alpha = 1, c.local_critic = models::LocalCritic::concat, c.global_critic = models::GlobalCritic::concat;
  c.coord = 1;
  models::DeepInfoMax dim(c);
  // Train a step so that weights and running statistics differ from initialization.
  Adam opt(dim.encoder_parameters(), 1e-3);
  const Tensor x = random({6, 1, 28, 28}, 3, DType::F32);
  dim.encoder_loss(x, 0).objective.total().backward();
  opt.step();
  TensorFile f;
  dim.save_to(f);
  const std::string path = "/tmp/imx_model_roundtrip.safetensors";
  save_safetensors(path, f);
  auto back = models::DeepInfoMax::load(path);
  dim.eval();
  NoGrad no_grad;
  const auto a = dim.encoder_loss(x, 4), b = back->encoder_loss(x, 4);
  CHECK(a.features.y.to_vector() == b.features.y.to_vector());
  CHECK(a.features.local.to_vector() == b.features.local.to_vector());
  for (const auto& t : a.objective.terms()) CHECK(t.value.item() == b.objective.term(t.name).item());
  f.metadata.erase("dim_model");
  save_safetensors(path, f);
  CHECK_THROWS_WITH(models::DeepInfoMax::load(path), Catch::Contains(path));
}

TEST_CASE("the dot critic on rows equals the reference's 1x1 convolutions over the map", "[models]") {
  Generator gen(4);
  const int64_t n = 3, c = 4, m = 3, u = 5;
  models::DotCritic critic(c, 2, u, gen);
  critic.to(DType::F64);
  const Tensor map = random({n, c, m, m}, 10);
  const std::vector<double> rows = critic.encode_local(map).to_vector();  // [n, m*m, u]
  // The same block as the reference writes it: 1x1 convs, 2-d batch-norm and channel layer-norm.
  auto w = [&](const std::string& name, int64_t out, int64_t in) {
    return Tensor::from(param(critic, "local." + name), {out, in, 1, 1}, DType::F64);
  };
  auto v = [&](const std::string& name) { return Tensor::from(param(critic, "local." + name), {u}, DType::F64); };
  Tensor rm = Tensor::zeros({u}, DType::F64), rv = Tensor::full({u}, 1.0, DType::F64);
  Tensor h = conv2d(map, w("hidden.weight", u, c));
  h = relu(batch_norm(h, v("bn.weight"), v("bn.bias"), rm, rv, true));
  h = add(conv2d(h, w("out.weight", u, u), v("out.bias")), conv2d(map, w("shortcut.weight", u, c)));
  const std::vector<double> ref = layer_norm_channels(h, v("ln.weight"), v("ln.bias")).to_vector();  // [n, u, m, m]
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < m * m; ++p)
      for (int64_t k = 0; k < u; ++k)
        worst = std::max(worst, std::abs(rows[(i * m * m + p) * u + k] - ref[(i * u + k) * m * m + p]));
  CHECK(worst < 1e-12);
}
