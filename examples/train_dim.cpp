// Deep InfoMax from your own C++ program: build a model from a preset, train it for a few
// steps on your images, save it, load it back and read Y. Built and run by the test suite
// (ctest -R example_train_dim), so this program stays true to the API.
#include <cstdio>

#include "engine/autograd.h"
#include "engine/optim.h"
#include "engine/random.h"
#include "engine/safetensors.h"
#include "models/deep_infomax.h"

int main() {
  using namespace imx;
  models::DimConfig config;                  // DIM(L), JSD, dot-product critic ...
  models::apply_preset(config, "dim-lg");    // ... here local + global, with the prior term
  config.arch = "mnist28";                   // 28x28 grayscale images
  config.mi_units = 64;                      // a small critic for a quick run
  models::DeepInfoMax dim(config);

  Adam encoder_opt(dim.encoder_parameters(), 1e-4, 0.5, 0.999);
  Adam prior_opt(dim.discriminator_parameters(), 1e-4, 0.5, 0.999);
  Generator gen(1);
  const Tensor images = uniform({16, 1, 28, 28}, -1, 1, gen);  // your batch, scaled to [-1, 1]
  for (uint64_t step = 0; step < 3; ++step) {
    encoder_opt.zero_grad();
    auto out = dim.encoder_loss(images, step);  // named terms: local, global, prior
    out.objective.total().backward();
    encoder_opt.step();

    prior_opt.zero_grad();  // the discriminator's own step: its loss plus the gradient penalty
    dim.discriminator_loss(out.features.y, step).total().backward();
    prior_opt.step();
    for (const auto& t : out.objective.terms()) std::printf("step %llu %s %.4f\n", (unsigned long long)step, t.name.c_str(), t.value.item());
  }

  TensorFile file;  // weights, running statistics and the config
  dim.save_to(file);
  save_safetensors("example-dim.safetensors", file);
  auto loaded = models::DeepInfoMax::load("example-dim.safetensors");  // eval mode
  dim.eval();
  NoGrad no_grad;
  const Tensor y = loaded->encoder().forward(images).y;  // [16, 64]
  const bool same = y.to_vector() == dim.encoder().forward(images).y.to_vector();
  std::printf("Y %s; reloaded model %s\n", shape_str(y.shape()).c_str(), same ? "identical" : "DIFFERS");
  return same ? 0 : 1;
}
