// The ranks of an MPI test session (mpi_main.cpp).
#pragma once
#include "distributed/group.h"

namespace imx::dist::test {
extern Group* session_group;
inline Group& group() { return *session_group; }
}  // namespace imx::dist::test
