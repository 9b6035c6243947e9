#pragma once
// Chinchilla Approach 2, IsoFLOP profiles (Hoffmann et al. 2022, arXiv:2203.15556, §3.2):
// runs are grouped into fixed compute budgets; within each budget the final loss is fitted by a
// parabola in ln N, whose minimum gives N_opt(C) (and D_opt = C/(6·N_opt), since C ≈ 6ND);
// then N_opt ∝ C^a and D_opt ∝ C^b are fitted across budgets in log-log space.
//
// Known bias: the parabola is only a local model of L(ln N). For a Chinchilla-form loss
// L = E + A/N^α + B/D^β the profile is asymmetric around its minimum, so the vertex of a fitted
// parabola is shifted by an amount that grows with the width of the N grid and depends on where
// the grid sits relative to the optimum. When every budget's grid has the same width and the
// same placement relative to its optimum, the shift is the same for all budgets and only k_N/k_D
// are biased, not the exponents (the profile's shape in ln N − ln N_opt does not depend on C in
// linear loss). Grids that are off-centre by different amounts bias a and b as well
// (Besiroglu et al. 2024, arXiv:2404.10102, discuss how sensitive Approach 2 is to such choices).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/dataset.h"
#include "scalinglab/fit/power_law_regression.h"

namespace scalinglab::fit {

// The scale in which the parabola is fitted: Hoffmann et al. fit the loss itself; fitting ln L
// is offered because multiplicative noise is closer to homoscedastic there.
enum class LossScale { kLinear, kLog };

enum class SkipReason {
  kNone,                  // the budget was used
  kTooFewDistinctN,       // fewer than 3 distinct model sizes: a parabola is not determined
  kNonPositiveCurvature,  // the fitted parabola opens downwards (or is flat): no minimum
  kMinimumAtEdge,         // the vertex lies outside the sampled N range: the optimum is extrapolated
};
const char* to_string(SkipReason r);

struct IsoflopOptions {
  // Runs whose C are within this relative tolerance of the smallest C of a group share a budget.
  double c_tolerance = 0.05;
  // Explicit budget id per run (same length as the runs); overrides the tolerance grouping.
  std::vector<long> budget_ids;
  LossScale loss_scale = LossScale::kLinear;
  int bootstrap = 1000;              // resamples; 0 disables the bootstrap
  uint64_t seed = 0;
  std::vector<double> predict_at;    // compute values at which N_opt and D_opt are reported
  int threads = 0;                   // OpenMP threads for the bootstrap; 0 = OpenMP's default
};

struct Parabola {
  // value = c0 + c1·u + c2·u², u = ln N; value is the loss (linear scale) or ln loss (log scale).
  double c0 = 0, c1 = 0, c2 = 0;
};

struct IsoflopBudget {
  long id = 0;                 // explicit id, or the 0-based index of the group in C order
  double c = 0;                // geometric mean of the members' compute
  std::vector<size_t> members; // indices into the input runs
  size_t distinct_n = 0;
  double n_min = 0, n_max = 0;
  std::optional<Parabola> parabola;  // absent when fewer than 3 distinct N
  SkipReason skipped = SkipReason::kNone;
  std::string reason;          // human-readable detail when skipped
  double n_opt = 0, d_opt = 0, l_opt = 0;  // valid when skipped == kNone
};

struct IsoflopResult {
  std::vector<IsoflopBudget> budgets;  // in increasing C
  LossScale loss_scale = LossScale::kLinear;
  double c_tolerance = 0.05;
  size_t points_used = 0;     // runs in budgets that were used
  OptimalScaling scaling;     // N_opt = k_N·C^a, D_opt = k_D·C^b with SEs and intervals
};

// Groups runs into budgets: sorted by C, a run joins the current group while its C is at most
// (1 + tolerance) times the group's smallest C. Returns groups of run indices in increasing C.
std::vector<std::vector<size_t>> group_by_compute(const std::vector<Run>& runs, double tolerance);

// Fits one budget's parabola and optimum from the given runs (members are indices into runs).
// Does not throw for an unusable budget: sets `skipped` and `reason`.
IsoflopBudget fit_budget(const std::vector<Run>& runs, const std::vector<size_t>& members, LossScale scale);

// The whole of Approach 2. Throws std::invalid_argument for invalid runs (non-positive N, C or
// loss), a budget_ids vector of the wrong size, or fewer than 2 usable budgets.
IsoflopResult fit_isoflop(const std::vector<Run>& runs, const IsoflopOptions& options = {});

// {approach: 2, method: "isoflop", a, b, k_N, k_D, budgets: [...], points_used, ...}
nlohmann::json to_json(const IsoflopResult& r);

}  // namespace scalinglab::fit
