#pragma once
// L-BFGS from every point of a grid of initialisations (Hoffmann et al. 2022 App. D.2 use a
// 4,500-point grid), run in parallel; the best optimum wins, ties broken by start order so the
// result does not depend on the thread count.
#include <vector>

#include "scalinglab/fit/lbfgs.h"

namespace scalinglab::fit {

struct MultiStartResult {
  Optimum best;
  int starts = 0;
  int converged = 0;  // starts whose solver converged (gradient or stall criterion)
  int at_best = 0;    // starts that ended within 1e-6 relative of the best objective
  // Distinct local optima (best first), used to seed bootstrap refits.
  std::vector<Optimum> distinct;
};

MultiStartResult minimize_from_starts(const HuberObjective& objective, const std::vector<std::vector<double>>& starts,
                                      const SolverOptions& options = {}, int threads = 0,
                                      size_t keep_distinct = 4);

}  // namespace scalinglab::fit
