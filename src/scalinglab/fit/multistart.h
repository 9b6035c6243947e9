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
  bool screened = false;  // Newton screening ran (solve_from_starts)
  int continued = 0;      // unfinished screened starts that were run on to convergence
  // Distinct local optima (best first), used to seed bootstrap refits.
  std::vector<Optimum> distinct;
};

// L-BFGS from every start (the reference every faster path is tested against).
MultiStartResult minimize_from_starts(const HuberObjective& objective, const std::vector<std::vector<double>>& starts,
                                      const SolverOptions& options = {}, int threads = 0,
                                      size_t keep_distinct = 4);

// What the fitter runs: trust-region Newton (newton.h) when the law has an LSE form, else
// minimize_from_starts. With screening (SolverOptions::screen_iterations > 0) every start runs
// that many Newton iterations — most of the grid has then converged or sits in the basin of the
// best optimum — and only the `continue_best` lowest distinct unfinished ones run on: on the
// published grid ~95% of starts share one basin, so the winner is in that set (tests/fit/
// test_fast_path checks it against L-BFGS run to the end from all 4,500 starts on many
// datasets). Unfinished starts not continued count as not converged. Deterministic and
// independent of the thread count (the selection depends only on the screened results).
MultiStartResult solve_from_starts(const HuberObjective& objective, const std::vector<std::vector<double>>& starts,
                                   const SolverOptions& options = {}, int threads = 0, size_t keep_distinct = 4);

}  // namespace scalinglab::fit
