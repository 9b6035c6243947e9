#pragma once
// Could the jump have been seen coming? Two forecasts from the smaller scales of a curve group:
//
// 1. Per curve (forecast_curve): fit the smaller half of the scales (the first ⌈n/2⌉), predict
//    the larger half, report the errors. Method by metric kind (metric_kind.h): discrete and
//    unknown metrics by the 4-parameter logistic in log10 x (bounded by the metric's range; needs
//    4 fitting points), continuous ones by a power law of their loss-like quantity q (needs 3).
//    A prediction is "within tolerance" when |predicted − measured| ≤ max(tolerance·range,
//    2·se), range = max − min of the whole measured curve.
//    Lead ("how many scales before the jump it was predictable"): given the jump — the midpoint
//    crossing of the group's headline discrete curve, in log10 x — the scales split into pre-jump
//    (log10 x < jump) and post-jump ones. For prefixes of m = min_points … (pre-jump count) scales,
//    the smallest m whose fit predicts EVERY post-jump value within tolerance is m*; the lead is
//    (pre-jump count) − m*: 0 means predictable only from all pre-jump scales, −1 not predictable
//    from pre-jump scales at all.
//
// 2. Two-step task forecast (Bhagia et al. 2024, the OLMo ladder; Llama 3 §3.2.1): step 1 fits the
//    task loss q (−loglik_per_token, or nll/task_loss/cross_entropy) against scale with a power
//    law; step 2 fits accuracy against task loss with the 4-parameter logistic (t = q, bounds of
//    the accuracy metric); chained, accuracy(x) = sigmoid(q̂(x)). Fitted on the smaller scales —
//    the larger half held out, or fewer so that 4 scales remain to fit (needs ≥ 5 models with both
//    metrics) — and reported per held-out scale: step 1's relative error, step 2's error given the
//    MEASURED loss, and the chained error, with a 95% percentile interval for the chained
//    accuracy from `bootstrap` case resamples of the fitting scales (both steps refitted; seeded
//    by fit::resample_seed). `predict_at` scales are predicted from a fit to all scales.
#include <cstdint>
#include <string>
#include <vector>

#include "scalinglab/emergence/logistic.h"
#include "scalinglab/emergence/loss_power_law.h"
#include "scalinglab/emergence/results_table.h"

namespace scalinglab::emergence {

struct ForecastOptions {
  double tolerance = 0.1;           // fraction of the curve's measured range
  bool power_law_offset = false;    // q = offset + a·x^(−b) instead of a·x^(−b)
  int bootstrap = 200;              // two-step interval
  std::uint64_t seed = 1;
  std::vector<double> predict_at;   // two-step: extra scales (same units as x)
};

enum class ForecastMethod { kNone, kLogistic, kPowerLaw };
const char* to_string(ForecastMethod m);  // "none", "logistic", "power_law"
ForecastMethod forecast_method(const MetricInfo& metric);
int min_fit_points(ForecastMethod m);     // 4 logistic, 3 power law

// Predictions at `at_x` from a fit to `points` (x, value) of a metric; NaN where impossible, with
// the reason in *note.
std::vector<double> predict_from(const MetricInfo& metric, ForecastMethod method, const std::vector<double>& x,
                                 const std::vector<double>& y, const std::vector<double>& at_x, bool offset,
                                 std::string* note);

struct ForecastPoint {
  std::string model;
  double x = 0, measured = 0, predicted = 0.0 / 0.0, tolerance = 0;
  bool within = false;
};

struct CurveForecast {
  std::string method = "none";
  int fit_points = 0;
  std::vector<ForecastPoint> held_out;
  double mean_abs_error = 0.0 / 0.0, max_abs_error = 0.0 / 0.0;
  bool all_within = false;
  double jump_log10_x = 0.0 / 0.0;
  int pre_jump = 0, post_jump = 0;
  int min_prefix = 0;     // m*; 0: none
  int lead_scales = -1;   // see above; −1: not predictable before the jump (or no jump)
  std::string note;
};

// jump_log10_x NaN: no lead computed (the note says so).
CurveForecast forecast_curve(const Curve& curve, double jump_log10_x, const ForecastOptions& options = {});

struct TwoStepPoint {
  std::string model;
  double x = 0;
  double loss_measured = 0.0 / 0.0, loss_predicted = 0.0 / 0.0;
  double accuracy_measured = 0.0 / 0.0;
  double accuracy_from_measured_loss = 0.0 / 0.0;  // step 2 alone
  double accuracy_predicted = 0.0 / 0.0;           // chained
  double accuracy_lo = 0.0 / 0.0, accuracy_hi = 0.0 / 0.0;
  bool covered = false;  // measured within [lo, hi]
};

struct TwoStepForecast {
  bool ok = false;
  std::string group, loss_label, accuracy_label;
  int models = 0, fit_points = 0;
  LossPowerLaw step1;
  LogisticFit step2;
  std::vector<TwoStepPoint> held_out;
  double step1_mean_abs_rel_error = 0.0 / 0.0;
  double step2_mean_abs_error = 0.0 / 0.0;
  double chained_mean_abs_error = 0.0 / 0.0;
  int bootstrap_used = 0;
  std::vector<TwoStepPoint> predictions;  // at predict_at, from all scales
  std::string note;
};

// `loss`: a curve whose metric has a task-loss quantity (loglik_per_token, nll, task_loss,
// cross_entropy); `accuracy`: a discrete curve of the same group. Matched by model name.
TwoStepForecast two_step_forecast(const Curve& loss, const Curve& accuracy, const ForecastOptions& options = {});
bool is_task_loss_metric(const MetricInfo& metric);

}  // namespace scalinglab::emergence
