#pragma once
// The fitting engine's public entry point: fit a law to runs, with multi-start L-BFGS (or
// variable projection), bootstrap uncertainty, quality measures, derived quantities and a
// leave-out extrapolation check. The CLI's `fit` merely fills FitOptions and prints FittedLaw.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/dataset.h"
#include "scalinglab/fit/estimate.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/lbfgs.h"

namespace scalinglab::fit {

enum class Method { kLbfgs, kVarPro };

struct FitOptions {
  Method method = Method::kLbfgs;
  double huber_delta = 1e-3;   // Hoffmann et al. 2022 App. D.2
  double objective_scale = 0;  // 0: 1/δ² (see HuberObjective)
  SolverOptions solver;
  std::vector<std::vector<double>> starts;  // initial θ; empty: the law's default grid
  int bootstrap = 1000;                     // resamples; 0 disables intervals
  uint64_t seed = 0;
  int threads = 0;                          // 0: all cores
  int holdout_top_compute = 0;              // refit without the K largest-compute runs
  int holdout_top_x = 0;                    // the same by the free variable x (laws of x alone)
  std::vector<double> at_compute;           // derived N_opt, D_opt, loss at these budgets
  std::vector<Run> at_points;               // predicted loss at these inputs (n, d, c, x)
  bool progress = false;                    // progress bar on stderr for the bootstrap
};

struct Range {
  double min = NAN, max = NAN;
};

struct DataRange {
  Range n, d, c, x, tokens_per_param, loss, u;
};

struct Quality {
  int points = 0, parameters = 0;
  double r2_log = NAN;      // R² of log loss
  double rmse_log = NAN;    // RMS of log residuals
  double mean_abs_rel_error = NAN;
  double aic = NAN, bic = NAN;  // Gaussian likelihood of the log residuals
};

struct Residual {
  long line = 0;
  double n = 0, d = 0, c = 0, x = 0, loss = 0, predicted = 0, log_residual = 0;
  double u = 0;  // unique tokens (0: not in the data)
};

struct ComputePrediction {
  double compute = 0;
  double orders_past_data = 0;  // log10(C / largest C in the data)
  Estimate n_opt, d_opt, tokens_per_param, loss;
};

// 95% interval for the loss of one new run: parameter uncertainty (bootstrap replicates) plus
// run-to-run scatter (the fit's log residuals added to the replicates' predictions).
struct Interval {
  double lo = NAN, hi = NAN;
  bool contains(double v) const { return v >= lo && v <= hi; }
};

struct PointPrediction {
  double n = 0, d = 0, c = 0, x = 0, u = 0;
  double orders_past_data = 0;
  Estimate loss;  // the law's expected loss; ci95 is parameter uncertainty only
  Interval pi95;  // where a single new run is expected to land
};

struct HoldoutRow {
  long line = 0;
  double n = 0, d = 0, c = 0, actual = 0;
  double x = 0, u = 0;
  Estimate predicted;
  Interval pi95;
  double rel_error = 0;  // (predicted − actual)/actual
  double orders_past_data = 0;
  bool inside_ci95 = false, inside_pi95 = false;
};

struct Holdout {
  int k = 0, train_points = 0;
  std::string by = "C";  // the variable whose largest values were held out: "C" or "x"
  std::vector<HoldoutRow> rows;
  double mean_abs_rel_error = NAN, max_abs_rel_error = NAN;
};

struct NamedEstimate {
  std::string name;
  Estimate estimate;
};

// One fitted law: the law itself with its parameters at the optimum, the bootstrap replicates,
// the data ranges, the scatter (log residuals) and the diagnostics of the fit. fit() makes it and
// load_fit() (fit_json.h) reads it back identical from its JSON; the questions a user asks of a
// fit (loss at a point, compute-optimal allocation, compute or N for a target loss) are member
// functions answered from θ and the replicates, so asking another question needs no refit.
struct FittedLaw {
  std::string law, formula, method, source;  // law: its name (make_law)
  std::shared_ptr<const Law> model;          // the law itself, as make_law(law, law_options) builds it
  LawOptions law_options;
  std::vector<std::string> param_names, internal_names;
  std::vector<double> theta;            // internal parameters at the optimum
  std::vector<Estimate> params;         // public parameters with SE and CI
  double objective = NAN, huber_delta = NAN;
  int points = 0, starts = 0, converged_starts = 0, starts_at_best = 0;
  int continued_starts = -1;  // Newton screening: starts run on after it (-1: every start ran to the end)
  std::string status;         // status_name() of the best optimum's solver stop
  std::string status_detail;  // describe(): how it stopped, gradient norm vs tolerance, iterations
  Quality quality;
  std::vector<Residual> residuals;
  std::vector<NamedEstimate> derived;   // law-specific scalars (a, b, G for Chinchilla)
  std::vector<ComputePrediction> at_compute;
  std::vector<PointPrediction> at_points;
  std::optional<Holdout> holdout;
  int bootstrap_requested = 0, bootstrap_done = 0, bootstrap_failed = 0;
  uint64_t seed = 0;
  std::vector<std::vector<double>> bootstrap_theta;
  DataRange range;
  std::vector<std::string> warnings;
  double wall_s = 0;

  // The questions. Each answer is the value at θ with SE and 95% percentile interval over the
  // bootstrap replicates (no interval without replicates). All throw std::invalid_argument when
  // `model` is empty or the law cannot answer (named in the message).
  //
  // Expected loss at `at` (ci95: parameter uncertainty) and the 95% interval a single new run is
  // expected in (pi95: replicates plus the fit's run-to-run scatter). Every variable of the law
  // must be positive in `at` (check_prediction_inputs).
  PointPrediction loss(const Run& at) const;
  // Whether optimum(), compute_for_loss() and n_for_loss() apply: laws of N and D (closed form for
  // the Chinchilla law, Hoffmann et al. 2022 eq. 4; a bracketed numeric optimum along C = 6ND for
  // the others, fit/compute_optimal.h) and laws of C alone (loss only, no N or D).
  bool has_optimum() const;
  // The compute-optimal N, D, D/N and loss at `compute` FLOPs under C = 6ND.
  ComputePrediction optimum(double compute) const;
  // The least compute whose optimal loss reaches `target` (NaN where it cannot: at or below the
  // irreducible loss, or beyond 1e60 FLOPs), and the compute-optimal N at that compute.
  Estimate compute_for_loss(double target) const;
  Estimate n_for_loss(double target) const;
  // The log residuals (predicted − observed log loss) of the fitted runs.
  std::vector<double> log_residuals() const;
};

// Throws std::invalid_argument naming the variable when `at` lacks one the law needs.
void check_prediction_inputs(const Law& law, const Run& at);

// Throws std::invalid_argument for data the law cannot use (missing variable, too few runs).
// `model` of the result is `law` itself.
FittedLaw fit(std::shared_ptr<const Law> law, const Dataset& data, const FitOptions& options);
// The same for a law given by reference: `model` is then rebuilt by make_law() from the law's name
// and options (every law of the registry), or left empty for a law outside the registry.
FittedLaw fit(const Law& law, const Dataset& data, const FitOptions& options);

// Predictions from a fitted law (θ plus bootstrap replicates) at arbitrary inputs.
Estimate predict_loss(const Law& law, const std::vector<double>& theta,
                      const std::vector<std::vector<double>>& bootstrap_theta, const Run& at);

Interval prediction_interval(const Law& law, const std::vector<std::vector<double>>& bootstrap_theta,
                             const std::vector<double>& log_residuals, const Run& at);

// The leave-out check's rows: each held-out run (actual loss) against `sub`'s prediction of it,
// where `sub` was fitted without them with FitOptions::at_points = held (same order). by_x: the
// runs were held out by x, not by compute (orders past the data are then in x).
Holdout score_holdout(const std::vector<Run>& held, const FittedLaw& sub, bool by_x);

// Orders of magnitude of compute past the data, and the warning text when beyond 2.
double orders_past(double compute, const DataRange& range);
std::optional<std::string> extrapolation_warning(double compute, const DataRange& range, const std::string& what);

DataRange data_range(const Dataset& data);

}  // namespace scalinglab::fit
