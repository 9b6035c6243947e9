#pragma once
// Which law to trust for a prediction past the data: the one that best predicted the sweep's own
// largest runs from its smaller ones. A rollout backtest inside the pilot's runs — fit each
// candidate on the lower compute budgets, predict the runs of the next budget up — as OLMo-core's
// ladder analysis judges its fits (Bhagia et al. 2024, "Establishing Task Scaling Laws via
// Compute-Efficient Model Ladders"), and as Choshen et al. 2024 ("A Hitchhiker's Guide to Scaling
// Law Estimation") recommend: judge a law by how it predicts larger models of the same family.
//
// The rule (kBacktestRule, recorded with every result):
// - The runs are grouped into budgets B_1 < … < B_k: by the design budget of each run when every
//   run has one (IsoFLOP sweeps), otherwise by compute with fit::group_by_compute (runs whose
//   C = 6ND lie within `c_tolerance` of a group's smallest C share a budget; grid and WSD sweeps).
// - Rollout 1 (k >= 3): fit on the runs of B_1 … B_{k−1}, predict the final loss of every run of
//   B_k. Rollout 2 (only when k >= 4): fit on B_1 … B_{k−2}, predict every run of B_{k−1}. Each fit
//   has at least two budgets; with fewer than 3 budgets there is no backtest.
// - A candidate's score is the mean absolute relative error |L̂ − L|/L over every predicted run of
//   every rollout (pooled). A candidate that cannot be fitted (or predicts a non-finite loss) in
//   some rollout has no score.
// - The combination candidate (when enabled) predicts, in each rollout, the equal-weight mean of
//   the laws' predictions; it has a score only when every law has one.
// - Chosen: the candidate with the lowest score; exact ties go to the earlier candidate (the laws
//   in `laws` order, then the combination). No candidate with a score: nothing is chosen.
// Only the runs given are used: the caller passes the sweep's runs, never the held-out run, so
// the choice cannot be tuned on the run it is meant to predict.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scalinglab/fit/dataset.h"

namespace scalinglab::sweep {

inline constexpr const char* kBacktestRule =
    "budgets B_1 < ... < B_k; rollout 1 (k >= 3): fit on B_1..B_{k-1}, predict B_k; rollout 2 (k >= 4): fit on "
    "B_1..B_{k-2}, predict B_{k-1}; score: mean |predicted - actual|/actual over every predicted run; chosen: the lowest "
    "score (ties: the earlier candidate)";

struct BacktestOptions {
  // Candidate laws, in tie-break order; each must be a fit::make_law name whose variables are N
  // and D (or a subset), since the runs carry nothing else.
  std::vector<std::string> laws = {"chinchilla", "kaplan-nd"};
  bool combination = true;   // also the equal-weight mean of the laws (named by combination_name)
  double c_tolerance = 0.05; // grouping by compute, when some run has no budget
  int threads = 0;           // for the fits (0: all cores); results do not depend on it
};

struct Rollout {
  double target_budget = 0;  // the budget predicted (grouped by compute: the group's geometric-mean C)
  int train_budgets = 0, train_runs = 0, target_runs = 0;
};

struct LawBacktest {
  std::string law;                      // a law name, or combination_name(laws)
  double mean_abs_rel_error = NAN;      // the score; NaN when the candidate failed a rollout
  double mean_rel_error = NAN;          // signed mean of (L̂ − L)/L: > 0 over-predicts the larger runs
  std::vector<double> rollout_errors = {}; // mean |rel. error| per rollout, parallel to Backtest::rollouts
  std::string failure = {};                // why there is no score (empty when there is one)
};

struct Backtest {
  std::string rule = kBacktestRule;
  std::string grouping;                 // "budget" (design budgets) or "compute" (group_by_compute)
  int budgets = 0;                      // k, the number of budgets found
  std::vector<Rollout> rollouts;        // empty: fewer than 3 budgets
  std::vector<LawBacktest> by_law;      // the laws in options order, then the combination
  std::string chosen;                   // the candidate with the lowest score; empty: none has one
  std::string note;                     // why nothing was chosen (empty when something was)
};

// "mean of chinchilla and kaplan-nd" (and "mean of a, b and c"); a single law is its own name.
std::string combination_name(const std::vector<std::string>& laws);

// Runs the rollouts on `data` (N, D and loss per run). `budgets` is parallel to data.runs: the
// design budget of each run, 0 where a run has none (then every run is grouped by compute).
// Throws std::invalid_argument when budgets and runs differ in length or a law name is unknown;
// a law that cannot be fitted in a rollout is recorded (LawBacktest::failure), not thrown.
Backtest rollout_backtest(const fit::Dataset& data, const std::vector<double>& budgets, const BacktestOptions& options = {});

nlohmann::json to_json(const Backtest& b);
Backtest backtest_from_json(const nlohmann::json& j);  // missing numbers read as NaN

}  // namespace scalinglab::sweep
