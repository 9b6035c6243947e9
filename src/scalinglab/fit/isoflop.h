#pragma once
// Chinchilla Approach 2, IsoFLOP profiles (Hoffmann et al. 2022, arXiv:2203.15556, §3.2):
// runs are grouped into fixed compute budgets; within each budget the final loss is fitted by a
// parabola in ln N, whose minimum gives N_opt(C), and separately by a parabola in ln D of the
// same runs, whose minimum gives D_opt(C); then N_opt ∝ C^a and D_opt ∝ C^b are fitted across
// budgets in log-log space. a and b are two independent estimates: a + b = 1 is what C = 6ND
// implies, so a departure beyond its uncertainty says the table's compute is not 6ND (a recipe
// that counts attention or embeddings differently) or the parabolas are biased. Only when D is
// not in the data (derived as C/(6N)) is D_opt = C/(6·N_opt) used instead
// (IsoflopOptions::d_from_runs = false), and then b = 1 − a by construction.
//
// Grouping (first that applies): IsoflopOptions::budget_ids; Run::budget when every run has one
// (a nominal budget column); otherwise C within IsoflopOptions::c_tolerance of the group's
// smallest C. Tolerance grouping that leaves half or more of the groups (and at least 3) with
// fewer than 3 runs is refused (std::invalid_argument): it means C varies within a budget (C = 6ND of runs whose FLOPs
// are not 6ND, or rounded token counts), and the parabolas would be fitted to fragments.
//
// Edge rule: a parabola's vertex outside the sampled range of its variable (ln N for N_opt,
// ln D for D_opt) is an extrapolation from one side of the optimum; with EdgeVertices::kDrop
// (the default) the budget is skipped (SkipReason::kMinimumAtEdge), with kKeep it is used and
// flagged (IsoflopBudget::extrapolated). Every skipped budget keeps its reason.
//
// Known bias: the parabola is only a local model of L(ln N). For a Chinchilla-form loss
// L = E + A/N^α + B/D^β the profile is asymmetric around its minimum, so the vertex of a fitted
// parabola is shifted by an amount that grows with the width of the N grid and depends on where
// the grid sits relative to the optimum. When every budget's grid has the same width and the
// same placement relative to its optimum, the shift is the same for all budgets and only k_N/k_D
// are biased, not the exponents (the profile's shape in ln N − ln N_opt does not depend on C in
// linear loss). Grids that are off-centre by different amounts bias a and b as well
// (Besiroglu et al. 2024, arXiv:2404.10102, discuss how sensitive Approach 2 is to such choices).
#include <cmath>
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
  kTooFewDistinctN,       // fewer than 3 distinct model sizes (or token counts): no parabola
  kNonPositiveCurvature,  // the fitted parabola (ln N or ln D) opens downwards or is flat: no minimum
  kMinimumAtEdge,         // a vertex lies outside the sampled N (or D) range and EdgeVertices::kDrop
};
const char* to_string(SkipReason r);
const char* code(SkipReason r);  // stable JSON code: "none", "too_few_distinct_n", ...

// What to do with a budget whose vertex lies outside the sampled range (see the file comment).
enum class EdgeVertices { kDrop, kKeep };

// How the uncertainty of a, b, k_N, k_D (and of a + b) is estimated.
//  kPoints: resample runs with replacement within each budget (the design stays: same budgets,
//    same number of runs each) and redo parabolas, skip rules and power laws (Efron & Tibshirani
//    1993). Guard: a budget that a resample makes unusable drops out of that resample only, and a
//    resample with fewer than 2 usable budgets is not counted (bootstrap_used < requested). The
//    default: it is the only scheme that sees the noise of the runs themselves; in a Monte Carlo
//    of a 7-budget, 9-run design its 95% intervals covered the truth 96% of the time.
//  kBudgets: resample the usable budgets' vertices (C, N_opt, D_opt) with replacement and refit
//    the power laws (a pairs bootstrap of the regression). Sees only the scatter of the vertices
//    about the power law; with few budgets it is coarse (5 budgets have 126 distinct resamples).
//  kSubsample80: Hoffmann et al. 2022 Table 2's scheme: 80% of the runs drawn without
//    replacement, `bootstrap` times (they use 100), the whole procedure redone; intervals are the
//    10th and 90th percentiles (interval_coverage = 0.8), not 95%.
enum class IsoflopBootstrap { kPoints, kBudgets, kSubsample80 };
const char* to_string(IsoflopBootstrap s);  // "points" | "budgets" | "subsample80"

struct IsoflopOptions {
  // Runs whose C are within this relative tolerance of the smallest C of a group share a budget
  // (used only when neither budget_ids nor Run::budget give the budgets).
  double c_tolerance = 0.05;
  // Explicit budget id per run (same length as the runs); overrides Run::budget and the tolerance.
  std::vector<long> budget_ids;
  LossScale loss_scale = LossScale::kLinear;
  // true: D_opt from each budget's own parabola in ln D (Run::d must be the tokens actually
  // trained). false: D_opt = C/(6·N_opt), for tables without D (b = 1 − a then, by construction).
  bool d_from_runs = true;
  EdgeVertices edge_vertices = EdgeVertices::kDrop;
  IsoflopBootstrap bootstrap_scheme = IsoflopBootstrap::kPoints;
  int bootstrap = 1000;              // resamples (subsamples for kSubsample80); 0 disables
  uint64_t seed = 0;
  std::vector<double> predict_at;    // compute values at which N_opt and D_opt are reported
  int threads = 0;                   // OpenMP threads for the bootstrap; 0 = OpenMP's default
};

struct Parabola {
  // value = c0 + c1·u + c2·u², u = ln N (or ln D); value is the loss (linear) or ln loss (log).
  double c0 = 0, c1 = 0, c2 = 0;
};

struct IsoflopBudget {
  long id = 0;                 // explicit id, nominal budget (rounded), or 0-based index in C order
  double c = 0;                // nominal budget (Run::budget) or geometric mean of the members' C
  std::vector<size_t> members; // indices into the input runs
  size_t distinct_n = 0, distinct_d = 0;
  double n_min = 0, n_max = 0, d_min = 0, d_max = 0;
  std::optional<Parabola> parabola;    // in ln N; absent when fewer than 3 distinct N
  std::optional<Parabola> parabola_d;  // in ln D; absent when d_from_runs is false or < 3 distinct D
  SkipReason skipped = SkipReason::kNone;
  std::string reason;          // human-readable detail when skipped
  bool extrapolated = false;   // used although a vertex lies outside the sampled range (kKeep)
  // N_opt, D_opt from their own vertices, L_opt the ln N parabola's minimum; NaN when skipped.
  double n_opt = NAN, d_opt = NAN, l_opt = NAN;
  bool used() const { return skipped == SkipReason::kNone; }
};

struct IsoflopResult {
  std::vector<IsoflopBudget> budgets;  // in increasing C
  LossScale loss_scale = LossScale::kLinear;
  double c_tolerance = 0.05;
  // "budget_ids" (IsoflopOptions::budget_ids), "budget" (Run::budget) or "compute_tolerance".
  std::string grouping;
  size_t small_groups = 0;    // groups with fewer than 3 runs
  bool d_from_runs = true;
  EdgeVertices edge_vertices = EdgeVertices::kDrop;
  IsoflopBootstrap bootstrap_scheme = IsoflopBootstrap::kPoints;
  double interval_coverage = 0.95;  // of the lo/hi of every estimate (0.8 for kSubsample80)
  size_t points_used = 0;     // runs in budgets that were used
  size_t budgets_used = 0, budgets_extrapolated = 0;
  OptimalScaling scaling;     // N_opt = k_N·C^a, D_opt = k_D·C^b with SEs and intervals
  // a + b: OLS SE from the slope of ln(N_opt·D_opt) on ln C (the same regression, so a and b's
  // correlation is accounted for); bootstrap SE and interval from the same replicates as a and b.
  Estimate a_plus_b;
  // 6ND/C over all runs, C the nominal budget where given (NaN when d_from_runs is false).
  double flops_ratio_min = NAN, flops_ratio_max = NAN;
  // a + b departing from 1, 6ND/C off by > 10%, most tolerance-formed budgets skipped, kept
  // extrapolated vertices, no D, predictions > 2 orders of magnitude of compute past the data.
  std::vector<std::string> warnings;
};

// Groups runs into budgets: sorted by C, a run joins the current group while its C is at most
// (1 + tolerance) times the group's smallest C. Returns groups of run indices in increasing C.
std::vector<std::vector<size_t>> group_by_compute(const std::vector<Run>& runs, double tolerance);

// Fits one budget's parabola and optimum from the given runs (members are indices into runs).
// Does not throw for an unusable budget: sets `skipped` and `reason`.
// With d_from_runs a second parabola in ln D gives D_opt; otherwise D_opt = C/(6·N_opt). The
// edge rule is applied to both vertices.
IsoflopBudget fit_budget(const std::vector<Run>& runs, const std::vector<size_t>& members, LossScale scale,
                         bool d_from_runs = true, EdgeVertices edge = EdgeVertices::kDrop);

// The whole of Approach 2. Throws std::invalid_argument (messages name IsoflopOptions::<field>
// or Run::<field>) for invalid runs (non-positive N, C or loss; non-positive D when d_from_runs),
// a budget_ids vector of the wrong size, tolerance grouping that leaves half or more of the groups
// (at least 3) with fewer than 3 runs, or fewer than 2 usable budgets.
IsoflopResult fit_isoflop(const std::vector<Run>& runs, const IsoflopOptions& options = {});

// {approach: 2, method: "isoflop", a, b, a_plus_b, k_N, k_D, budgets: [...], skipped: [...],
//  grouping, warnings, ...} (docs/FIT_JSON.md). With kSubsample80 the intervals are under
//  "ci80" instead of "ci95".
nlohmann::json to_json(const IsoflopResult& r);

}  // namespace scalinglab::fit
