// Every probe learns a separable problem: four well separated blobs (chance 25%).
#include <catch.hpp>

#include "evaluation/knn.h"
#include "evaluation/linear_probe.h"
#include "evaluation/mlp_probe.h"
#include "synthetic.h"

using namespace imx;
using namespace imx::eval;

namespace {

struct Problem {
  Labeled train, test;
};

Problem separable() {
  const testing::Blobs tr = testing::blobs(2048, 16, 4, 4.0, 21), te = testing::blobs(512, 16, 4, 4.0, 22);
  return {{tr.x, tr.labels}, {te.x, te.labels}};
}

TrainingOptions options(double lr) {
  TrainingOptions o;
  o.epochs = 3;
  o.lr = lr;
  o.batch = 64;
  o.seed = 3;
  return o;
}

}  // namespace

TEST_CASE("the MLP probe beats chance by far on separable blobs", "[eval][probes]") {
  const Problem p = separable();
  CHECK(mlp_probe_accuracy(p.train, p.test, 4, options(1e-3)) > 0.9);
}

TEST_CASE("the linear probe beats chance by far on separable blobs", "[eval][probes]") {
  const Problem p = separable();
  CHECK(linear_probe_accuracy(p.train, p.test, 4, options(1e-2)) > 0.9);
}

TEST_CASE("the k-NN classifier beats chance by far on separable blobs", "[eval][probes]") {
  const Problem p = separable();
  CHECK(knn_accuracy(p.train, p.test, 4, KnnOptions{}) > 0.9);
}

TEST_CASE("a probe on label-free noise stays near chance", "[eval][probes]") {
  // The same pipeline with features independent of the labels: no leak from train to test.
  Problem p = separable();
  p.train.x = testing::blobs(2048, 16, 1, 0.0, 23).x;
  p.test.x = testing::blobs(512, 16, 1, 0.0, 24).x;
  CHECK(linear_probe_accuracy(p.train, p.test, 4, options(1e-2)) < 0.35);
}

TEST_CASE("accuracy takes the first largest logit", "[eval][probes]") {
  CHECK(accuracy({0, 1, 1, 0, 2, 2}, 2, {1, 0, 1}) == Approx(2.0 / 3.0));  // row 3 ties: class 0
}
