// The Catch2 main of the tests that run as several MPI ranks (mpirun -np 2 in ctest): MPI lives
// for the whole session, every rank runs the same test cases in the same order, and a rank
// whose test fails before a collective makes the others time out (60 s) instead of hanging.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "tests/dist/mpi_session.h"

namespace imx::dist::test {
Group* session_group = nullptr;
}

int main(int argc, char** argv) {
  auto group = imx::dist::Group::create(imx::Device::CPU, 60);
  if (group->size() < 2) {
    std::fprintf(stderr, "%s: run me with mpirun -np 2 (or more); ctest does\n", argv[0]);
    return 1;
  }
  imx::dist::test::session_group = group.get();
  const int failed = Catch::Session().run(argc, argv);
  // A failure on any rank fails the job.
  double any = failed;
  group->host().all_reduce(&any, 1, imx::dist::Reduce::max);
  return any > 0 ? 1 : 0;
}
