#pragma once
// Power laws y = k·x^p fitted by ordinary least squares in log-log space, and the pair of them
// that Chinchilla approaches 1 and 2 report: N_opt = k_N·C^a and D_opt = k_D·C^b
// (Hoffmann et al. 2022, arXiv:2203.15556, §3.1-3.2 and Table 2).
//
// Fitting a straight line to (ln x, ln y) is what Hoffmann et al. do for both approaches; it
// assumes multiplicative (log-normal) scatter, which is the natural error model for optimal
// sizes that span several orders of magnitude.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "scalinglab/fit/estimate.h"

namespace scalinglab::fit {

struct PowerLawFit {
  double k = 0;              // prefactor, y = k·x^p
  double p = 0;              // exponent
  double log_k = 0;          // ln k (the regression intercept)
  double se_p = 0;           // OLS standard error of p
  double se_log_k = 0;       // OLS standard error of ln k
  double se_k = 0;           // delta method: k·se(ln k)
  double cov_log_k_p = 0;    // OLS covariance of (ln k, p), for prediction intervals
  double r2 = 0;             // coefficient of determination of the log-log fit
  double residual_sd = 0;    // sqrt(RSS/(n-2)) in ln y
  double mean_log_x = 0;     // centre of the data in ln x (the SE of a prediction is smallest there)
  size_t n = 0;              // number of points
  std::vector<double> residuals;  // ln y_i − (ln k + p·ln x_i), in input order

  double predict(double x) const;
  // Standard error of ln ŷ(x) from the OLS covariance (0 when the fit is exact; NaN when n = 2).
  double se_log_predict(double x) const;
};

// Throws std::invalid_argument when sizes differ, fewer than 2 points are given, a value is not
// positive and finite, or all x are equal. With exactly 2 points the SEs are NaN (no residual
// degrees of freedom).
PowerLawFit fit_power_law(std::span<const double> x, std::span<const double> y);


struct OptimumAt {
  double c = 0;        // compute budget, FLOPs
  Estimate n_opt;      // k_N·C^a
  Estimate d_opt;      // k_D·C^b
};

// The two compute-optimal power laws with their uncertainties.
struct OptimalScaling {
  PowerLawFit n_fit;   // N_opt vs C: p = a, k = k_N
  PowerLawFit d_fit;   // D_opt vs C: p = b, k = k_D
  Estimate a, b, k_n, k_d;
  std::vector<OptimumAt> predictions;
  int bootstrap_requested = 0;  // resamples asked for
  int bootstrap_used = 0;       // resamples that produced a fit (others had < 2 usable points)
  uint64_t seed = 0;
};

// Fits both laws to optimal points (c[i], n_opt[i], d_opt[i]) and fills values and analytic SEs,
// including N_opt and D_opt at each compute in `predict_at` (must be positive and finite).
OptimalScaling fit_optimal_scaling(std::span<const double> c, std::span<const double> n_opt,
                                   std::span<const double> d_opt, std::span<const double> predict_at);

// One bootstrap replicate of the two laws. `ok` is false for a resample that could not be fitted.
struct ScalingDraw {
  bool ok = false;
  double a = 0, log_k_n = 0, b = 0, log_k_d = 0;
};
ScalingDraw draw_from(const PowerLawFit& n_fit, const PowerLawFit& d_fit);
// Fits both laws to one resample's optimal points; ok = false when they cannot be fitted (fewer
// than 2 points, or all at one compute value).
ScalingDraw draw_from_points(const std::vector<double>& c, const std::vector<double>& n_opt,
                             const std::vector<double>& d_opt);

// Fills se/lo/hi of every estimate in `s` from the usable draws (needs at least 2 of them);
// lo/hi are the (1 ± coverage)/2 percentiles (0.95: the 95% interval).
void add_bootstrap(OptimalScaling& s, const std::vector<ScalingDraw>& draws, uint64_t seed, double coverage = 0.95);



// Writes keys a, b, k_N, k_D (each {value, se, se_analytic, ci95:[lo,hi]}), r2_N, r2_D and
// predictions into `out`. Non-finite numbers become null.
void write_scaling_json(nlohmann::json& out, const OptimalScaling& s);
nlohmann::json to_json(const PowerLawFit& f);

}  // namespace scalinglab::fit
