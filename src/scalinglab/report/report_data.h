#pragma once
// What the HTML report shows, as plain data: no dependency on the fitting engine, so the sweep,
// the run store or a test can fill it directly (report/from_fit.h fills it from fit results).
// Every section is optional: an empty vector or absent optional omits its plot or table.
// NaN marks a missing number (an interval that was not computed, an unknown N_opt).
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace scalinglab::report {

// Whether the data determine a number (fit/identifiability.h states the rule): "yes", "weak",
// "no", "fixed", or empty when not assessed. A "no" is never shown as a finding: the report greys
// it and gives `reason` and the design change (`remedy`) that would determine it.
struct Verdict {
  std::string identified, reason, remedy;
  bool unidentified() const { return identified == "no"; }
};

// A value with its 95% interval; lo/hi NaN when there is no interval. Magnitudes ≥ 1e300 show as
// "unbounded".
struct ValueCI {
  ValueCI() = default;
  ValueCI(double v, double l = NAN, double h = NAN, Verdict why = {}) : value(v), lo(l), hi(h), verdict(std::move(why)) {}
  double value = NAN, lo = NAN, hi = NAN;
  Verdict verdict;
  bool has_interval() const { return std::isfinite(lo) && std::isfinite(hi); }
};

// One training curve: the loss as a run progresses.
struct CurvePoint {
  double tokens = 0, flops = 0, loss = 0;
};
struct Curve {
  std::string name;
  double n = 0;  // parameters: colours the curve
  std::vector<CurvePoint> points;
};

// One IsoFLOP budget (Chinchilla approach 2): final losses of runs of equal compute and the
// parabola value = c0 + c1·u + c2·u², u = ln N, fitted to them (value = ln loss when log_loss).
struct IsoflopPoint {
  double n = 0, loss = 0;
};
struct IsoflopCurve {
  double c = 0;
  std::vector<IsoflopPoint> points;
  bool has_parabola = false;
  double c0 = 0, c1 = 0, c2 = 0;
  bool log_loss = false;
  double n_opt = NAN, loss_opt = NAN;  // the parabola's minimum; NaN when the budget was skipped
  bool used = true;                    // false: skipped, drawn in grey with a dashed parabola
  bool extrapolated = false;           // used with a vertex outside the sampled range (drawn as a diamond)
  std::string note;                    // why the budget was skipped (or its vertex extrapolated)
};

// y = k·C^exponent, fitted to the optimal points; exponent carries its 95% interval.
struct BandPoint {
  double c = 0, lo = NAN, hi = NAN;
};
struct PowerLawLine {
  double k = NAN;
  ValueCI exponent;
  std::vector<BandPoint> band;  // 95% interval of the line at some budgets; empty: no band
};

struct FrontierPoint {
  double c = 0;
  ValueCI n_opt, d_opt;
};
struct Frontier {
  std::vector<FrontierPoint> points;
  std::optional<PowerLawLine> n_fit, d_fit;  // N_opt = k_N·C^a, D_opt = k_D·C^b
  // Chinchilla approach 1 (training-curve envelope): frontier samples and the fitted line, drawn
  // beside approach 2's; empty/absent when not computed.
  std::vector<FrontierPoint> envelope_points;
  std::optional<PowerLawLine> envelope_n_fit, envelope_d_fit;
  // Reference slopes drawn through the fitted line at the data's geometric-mean compute:
  // Hoffmann et al. 2022 (arXiv:2203.15556) Table 2 give a ≈ b ≈ 0.5. NaN omits the line.
  double reference_a = 0.5, reference_b = 0.5;
  std::string reference_label = "Chinchilla a = b = 0.5 (Hoffmann et al. 2022, Table 2)";
};

// A run left out of the fit, its predicted loss with interval and the loss it reached.
struct HeldOutRun {
  std::string name;
  double c = NAN;  // compute, shown in the tooltip
  double predicted = NAN, lo = NAN, hi = NAN, actual = NAN;
};

struct ResidualPoint {
  double x = 0, residual = 0;
  std::string label;  // run name or source line, for the tooltip
};
struct Residuals {
  std::string x_label = "Compute C (FLOPs)";
  std::string y_label = "ln L − ln L̂";
  bool log_x = true;
  std::vector<ResidualPoint> points;
};

struct ParamRow {
  std::string name;
  double value = NAN, se = NAN, lo = NAN, hi = NAN;
  Verdict verdict;
};

// The compute-optimal allocation at one budget, as a planner would use it.
struct PlannerRow {
  double c = 0;
  ValueCI n_opt, d_opt, loss;
};

// One way of estimating the compute-optimal scaling (approaches 1–3, Kaplan's forms), side by side.
struct ApproachRow {
  std::string name;
  ValueCI a, b;      // N_opt ∝ C^a, D_opt ∝ C^b; NaN where the method does not give them
  std::string note;  // e.g. the law's formula or its goodness of fit
};

// One candidate of the rollout backtest that chose the held-out run's headline law (the sweep's
// lower budgets fitted, its top budgets predicted; see sweep/rollout_backtest.h).
struct BacktestRow {
  std::string law;
  double mean_abs_rel_error = NAN, mean_rel_error = NAN;
  bool chosen = false;
  std::string note;  // why the candidate has no score, when it has none
};

// A section rendered by another area (e.g. the emergence analysis, emergence/analysis_html.h):
// `html` is inserted as is (its producer escapes what it shows) before the notes, and `label`
// links to `id` in the navigation.
struct HtmlSection {
  std::string id, label, html;
};

struct ReportData {
  std::string title = "Scaling-law report";
  std::string subtitle;  // e.g. the law's formula or the data source
  std::vector<Curve> runs;
  std::vector<IsoflopCurve> isoflop;
  std::optional<Frontier> frontier;
  std::vector<HeldOutRun> held_out;
  std::vector<BacktestRow> backtest;
  std::string backtest_rule;  // how the rows were scored and the headline chosen
  std::optional<Residuals> residuals;
  std::vector<ParamRow> params;
  std::vector<PlannerRow> planner;
  std::vector<ApproachRow> approaches;
  // Whether the approaches agree on a within their intervals, as one sentence; empty: not shown.
  std::string agreement;
  std::vector<HtmlSection> sections;
  std::vector<std::string> notes, warnings;
};

}  // namespace scalinglab::report
