// The estimators of losses/mi (terms.h: per-pair terms, online log-sum-exp, link functions) and
// their runtime dispatch (dispatch.h), made includable next to kernels/simt/simt.h.
//
// Why an adapter: losses/mi/math.h defines IMX_HD itself when nobody has, and then writes
// `IMX_HD inline`. simt.h's IMX_HD already ends in `inline`, so whichever header comes second
// breaks: "duplicate 'inline'" (g++) / "duplicate specifier" (nvcc), or a macro redefinition.
// Here terms.h is always compiled with its own definition (`__host__ __device__` under nvcc,
// empty otherwise), and simt.h's definition is restored afterwards.
#pragma once

#pragma push_macro("IMX_HD")
#undef IMX_HD
#include "losses/mi/dispatch.h"
#include "losses/mi/terms.h"
#undef IMX_HD
#pragma pop_macro("IMX_HD")

#include "kernels/simt/simt.h"
