#pragma once
// The fitting engine's public entry point: fit a law to runs, with multi-start L-BFGS (or
// variable projection), bootstrap uncertainty, quality measures, derived quantities and a
// leave-out extrapolation check. The CLI's `fit` merely fills FitOptions and prints FitReport.
#include <array>
#include <cstdint>
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

struct FitReport {
  std::string law, formula, method, source;
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
};

// Throws std::invalid_argument for data the law cannot use (missing variable, too few runs).
FitReport fit(const Law& law, const Dataset& data, const FitOptions& options);

// Predictions from a fitted law (θ plus bootstrap replicates) at arbitrary inputs.
Estimate predict_loss(const Law& law, const std::vector<double>& theta,
                      const std::vector<std::vector<double>>& bootstrap_theta, const Run& at);

Interval prediction_interval(const Law& law, const std::vector<std::vector<double>>& bootstrap_theta,
                             const std::vector<double>& log_residuals, const Run& at);

// Orders of magnitude of compute past the data, and the warning text when beyond 2.
double orders_past(double compute, const DataRange& range);
std::optional<std::string> extrapolation_warning(double compute, const DataRange& range, const std::string& what);

DataRange data_range(const Dataset& data);

}  // namespace scalinglab::fit
