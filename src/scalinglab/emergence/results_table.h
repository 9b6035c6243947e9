#pragma once
// The long results table (docs/EMERGENCE.md), read into curves: one row per (model, curve)
// value, a curve being every row that shares the identity columns and the metric. Columns:
//   model (--col-model), params and/or compute (the scale; --x), task, metric, value   required
//   n_examples, stderr, higher_is_better, ci_lo, ci_hi                               optional
//   every other column (answer_len, progress, shots, family, subtask, ...)           identity
// answer_len (L, target tokens), when given, must be a positive integer: it enables the mirage
// test. The scale column not chosen as x is kept per point.
//
// Refused with io::InputError "file:line: column 'c': what" (exit 2 from the CLI): an empty
// table, a missing required column (with the closest name), an empty model/task/metric cell, a
// non-numeric or non-positive scale, a non-numeric or non-finite value, a value outside the
// metric's range (accuracy-like metrics outside [0, 1] with a hint when it looks like a
// percentage; log-likelihood > 0; negative edit distance, loss or Brier > 2; perplexity < 1), a
// negative stderr, a non-positive n_examples, a higher_is_better other than 1/0/true/false/yes/no
// or disagreeing within a curve, a bad answer_len, and two rows for one model in one curve.
// Perplexity is never analysed raw: it is converted to loglik_per_token = −ln ppl (stderr by the
// delta method) with a warning. Curves with fewer than 3 distinct scales are skipped with a note.
#include <string>
#include <utility>
#include <vector>

#include "scalinglab/emergence/metric_kind.h"
#include "scalinglab/io/table.h"

namespace scalinglab::emergence {

enum class ScaleAxis { kAuto, kCompute, kParams };  // kAuto: compute when the column exists, else params
const char* to_string(ScaleAxis a);                 // "auto", "compute", "params"
// Inverse of to_string; throws std::invalid_argument naming `field` otherwise.
ScaleAxis scale_axis_from(const std::string& text, const std::string& field = "x");

struct ReadOptions {
  ScaleAxis x = ScaleAxis::kAuto;
  std::string col_model = "model";
};

struct CurvePoint {
  std::string model;
  double x = 0;                   // the scale (> 0)
  double value = 0;               // after a perplexity conversion
  double stderr = 0.0 / 0.0;      // NaN: not given
  double n_examples = 0.0 / 0.0;  // NaN: not given
  double ci_lo = 0.0 / 0.0, ci_hi = 0.0 / 0.0;
  double params = 0.0 / 0.0, compute = 0.0 / 0.0;  // both scale columns, when present
  long line = 0;                  // source line
};

struct Curve {
  // Every identity column (task and answer_len included) with its value, in table order.
  std::vector<std::pair<std::string, std::string>> identity;
  std::string task, metric;       // metric: canonical lower-case name (perplexity → loglik_per_token)
  MetricInfo info;                // higher_is_better resolved from the column when given
  int answer_len = 0;             // 0: not given
  bool from_perplexity = false;
  std::vector<CurvePoint> points; // ordered by x; equal x keep table order

  // "task=add3 shots=0 metric=exact_match": what notes and tables call the curve (empty identity
  // values are left out of labels, not of the identity).
  std::string label() const;
  // A key of the identity without answer_len (metric not included): curves of one group are
  // paired by the mirage test and the two-step forecast.
  std::string group() const;
  std::string group_label() const;  // "task=add3 shots=0"
  std::vector<double> xs() const;
  std::vector<double> log10_xs() const;
  std::vector<double> values() const;
  // Standard error of point i: stderr when given; else, for a proportion with n_examples, the
  // Agresti–Coull binomial one sqrt(p̃(1 − p̃)/(n + 4)), p̃ = (y·n + 2)/(n + 4) (never 0 at y = 0
  // or 1); else 0.
  double se(size_t i) const;
  int distinct_scales() const;
};

struct ResultsTable {
  std::string source;
  std::string x_column;                   // "compute" or "params" (as named in the table)
  std::vector<std::string> identity_columns;
  std::vector<Curve> curves;              // each with ≥ 3 distinct scales, in order of first row
  std::vector<std::string> notes, warnings;
};

ResultsTable read_results(const io::Table& table, const ReadOptions& options = {});

}  // namespace scalinglab::emergence
