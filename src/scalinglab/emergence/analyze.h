#pragma once
// `scalinglab emergence analyze`: a long results table (results_table.h) → per curve I, B, L
// (breakthrough.h), the midpoint crossing, the 4-parameter logistic with a bootstrap interval for
// x0 (logistic.h), a power law for continuous metrics (loss_power_law.h), a forecast of the larger
// half from the smaller (forecast.h) and a verdict; per curve group the mirage test (mirage.h),
// the two-step task forecast and a verdict per task. The verdict rule (docs/EMERGENCE.md):
//
//   flat    |I| ≤ max(flat_tolerance·scale, 2·sqrt(se_argmax² + se_argmin²)), scale = the width of
//           the metric's range when finite (1 for accuracies), else max |y|;
//   sharp   not flat and sharpness ≥ sharp_threshold (sharpness = |B|/(n − 1) of the value for
//           discrete metrics, of ln q for continuous ones: breakthrough.h);
//   smooth  otherwise.
//   A sharp exact_match/accuracy curve is "sharp but explained by the metric" when the mirage
//   test tracks it (p^L within tolerance at every model) AND the per-token metric p came from is
//   not sharp; "sharp and unexplained" when it was tested and either fails; "sharp (untested)"
//   when there is no per-token metric or no answer_len. A sharp continuous curve is "sharp and
//   unexplained" (no metric artefact can make a continuous metric jump).
//   A task (curve group) takes the most severe verdict of its discrete curves (of all its curves
//   when it has none): unexplained > untested > explained > smooth > flat.
//
// Curves are analysed in parallel (OpenMP); each curve's bootstrap seed is
// fit::resample_seed(seed, curve index), so results do not depend on the thread count.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scalinglab/emergence/breakthrough.h"
#include "scalinglab/emergence/forecast.h"
#include "scalinglab/emergence/logistic.h"
#include "scalinglab/emergence/loss_power_law.h"
#include "scalinglab/emergence/mirage.h"
#include "scalinglab/emergence/results_table.h"
#include "scalinglab/io/table.h"

namespace scalinglab::emergence {

// Verdict names as written in JSON, tables and the report.
inline constexpr const char* kVerdictFlat = "flat";
inline constexpr const char* kVerdictSmooth = "smooth";
inline constexpr const char* kVerdictExplained = "sharp but explained by the metric";
inline constexpr const char* kVerdictUnexplained = "sharp and unexplained";
inline constexpr const char* kVerdictUntested = "sharp (untested)";

struct AnalyzeOptions {
  ScaleAxis x = ScaleAxis::kAuto;        // scale column: compute when present, else params
  std::string col_model = "model";
  int bootstrap = 200;                   // x0 interval (and two-step interval) replicates; 0: none
  BootstrapKind bootstrap_kind = BootstrapKind::kResiduals;
  std::uint64_t seed = 1;
  double sharp_threshold = 3;            // sharpness at or above: sharp
  double flat_tolerance = 0.02;          // fraction of the metric's scale
  double mirage_tolerance = 0.1;         // absolute, exact-match units
  double forecast_tolerance = 0.1;       // fraction of the curve's range
  bool power_law_offset = false;         // q = offset + a·x^(−b)
  std::vector<double> predict_at;        // two-step predictions at these scales (x units)
  int threads = 0;                       // 0: OpenMP default
};
// Throws std::invalid_argument naming the field (e.g. "bootstrap: must be >= 0").
void validate(const AnalyzeOptions& options);

struct CurveAnalysis {
  Curve curve;
  Breakthrough bt;                  // on the value (BIG-bench's definition)
  double sharpness = 0.0 / 0.0;     // |B|/(n − 1) on the sharpness basis
  std::string sharpness_basis;      // "value" or "log_loss"
  std::string shape;                // "flat", "smooth" or "sharp"
  double flat_threshold = 0;        // the |I| at or below which the curve is flat
  double midpoint_log10_x = 0.0 / 0.0;
  LogisticFit logistic;
  LossPowerLaw power_law;           // continuous metrics with a q; fitted = false otherwise
  std::string power_law_quantity;   // loss_quantity_name(), "" without
  CurveForecast forecast;
  int mirage = -1;                  // index into AnalysisResult::mirage, −1: none
  std::string verdict, reason;
};

struct TaskVerdict {
  std::string group;                // Curve::group_label()
  std::string task;
  std::vector<std::pair<std::string, std::string>> identity;  // without answer_len
  std::string verdict, decided_by, reason;  // decided_by: the curve's label
};

struct AnalysisResult {
  std::string source, x_column;
  AnalyzeOptions options;
  std::vector<CurveAnalysis> curves;
  std::vector<MirageTest> mirage;
  std::vector<TaskVerdict> verdicts;
  std::vector<TwoStepForecast> two_step;
  std::vector<std::string> notes, warnings;
};

// Reads the table (throws io::InputError for what results_table.h refuses) and analyses it.
AnalysisResult analyze_table(const io::Table& table, const AnalyzeOptions& options = {});
// The same from curves already read (e.g. built by the emergence sweep).
AnalysisResult analyze_results(ResultsTable results, const AnalyzeOptions& options = {});

// The documented schema (docs/EMERGENCE.md, "scalinglab.emergence.analysis/1"); non-finite
// numbers are null (an infinite B is null with "breakthroughness_inf": ±1).
nlohmann::json to_json(const AnalysisResult& result);

}  // namespace scalinglab::emergence
