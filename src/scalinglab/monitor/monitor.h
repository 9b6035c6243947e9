#pragma once
// Is a live training run on track? Each evaluation of the run (step, tokens so far, loss) is
// compared with a band of where it should be:
//   (a) law mode: the prediction of a fitted law at the run's N and its tokens so far, with the
//       law's bootstrap + run-to-run scatter band (monitor/law_band.h);
//   (b) curve mode: the run's own learning curve L(D) = E + B·D^(−β) fitted to its early points
//       (the calibration window) and extrapolated, with its prediction band
//       (monitor/learning_curve.h). The band is not refitted later: later points are judged
//       against what the early run predicted.
// A run that stays outside the band on the same side for `patience` consecutive evaluations is
// flagged (a warning is raised once per excursion); a non-finite loss flags it at once. With a
// final token count, the final loss is re-estimated after every evaluation from the learning
// curve refitted to all points so far.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/fit_json.h"
#include "scalinglab/monitor/law_band.h"
#include "scalinglab/monitor/learning_curve.h"
#include "scalinglab/monitor/log_reader.h"

namespace scalinglab::monitor {

enum class PointStatus { kSkipped, kCalibrating, kCalibration, kInside, kAbove, kBelow, kDiverged };
const char* status_name(PointStatus s);

struct FinalEstimate {
  bool ok = false;
  double tokens = NAN;
  int points = 0;  // evaluations the curve was fitted to
  CurvePrediction loss;
};

struct MonitorPoint {
  long line = 0;        // source line (or tfevents record number)
  int64_t offset = -1;  // tfevents byte offset
  double step = NAN, tokens = NAN, loss = NAN;
  double predicted = NAN, lo = NAN, hi = NAN;  // the reference and its band at these tokens
  PointStatus status = PointStatus::kSkipped;
  int outside_run = 0;  // consecutive evaluations outside on this side, this one included
  FinalEstimate final;  // the final-loss estimate after this evaluation (when asked for)
};

struct MonitorWarning {
  std::string kind;  // "off-track", "diverged", "ignored", "input"
  long line = 0;
  double step = NAN, tokens = NAN;
  std::string message;
  bool flags = false;  // counts as the run being off track
};

struct MonitorOptions {
  std::string source;  // file name, for messages
  Metric metric = Metric::kAuto;
  double tokens_per_step = 0;  // 0: the log's own tokens or announced tokens per step
  // Law mode when set.
  std::shared_ptr<const fit::FittedLaw> law;
  double params = 0;
  // Curve mode calibration window: the first `calibrate_points` evaluations, or those with at
  // most `calibrate_tokens` tokens (at least kMinCurvePoints either way).
  int calibrate_points = 0;
  double calibrate_tokens = 0;
  double final_tokens = 0;  // 0: no final-loss estimate
  int patience = 3;
  double level = 0.95;  // band coverage
  int skip = 0;         // evaluations ignored at the start (warmup), besides those at 0 tokens
  bool estimate_final = true;
};

class Monitor {
 public:
  // Throws std::invalid_argument for inconsistent options (law without --params, bad level, …).
  explicit Monitor(MonitorOptions options);

  // Takes one record; returns the points whose evaluation it completed (in curve mode the
  // calibration points all arrive when the window closes). Throws io::InputError for a record
  // the monitor cannot use (no token count, loss ≤ 0).
  std::vector<MonitorPoint> add(const LogRecord& record);
  std::vector<MonitorPoint> add_all(const std::vector<LogRecord>& records);
  // End of input: a curve-mode run still calibrating is fitted with what it has (if enough).
  std::vector<MonitorPoint> finish();
  void add_warning(MonitorWarning w) { warnings_.push_back(std::move(w)); }

  const std::vector<MonitorPoint>& points() const { return points_; }
  const std::vector<MonitorWarning>& warnings() const { return warnings_; }
  const std::vector<std::string>& notes() const { return notes_; }
  bool flagged() const { return flagged_; }
  Metric metric() const { return metric_; }
  bool law_mode() const { return static_cast<bool>(law_band_); }
  bool calibrated() const { return calibration_.ok; }
  const CurveFit& calibration() const { return calibration_; }
  int calibration_points() const { return calibration_count_; }
  const MonitorOptions& options() const { return options_; }
  std::optional<Band> reference(double tokens) const;  // the band anywhere (plots)
  std::optional<FinalEstimate> final_estimate() const;  // the latest
  std::optional<Band> law_final() const;                // the law's prediction at final tokens
  int evaluated() const;                                // points compared with the band

 private:
  void reset();
  std::vector<MonitorPoint> process(const LogRecord& r);
  void judge(MonitorPoint& p);
  void close_calibration(std::vector<MonitorPoint>& out);
  void update_final(MonitorPoint& p);

  MonitorOptions options_;
  std::unique_ptr<LawBand> law_band_;
  Metric metric_;
  bool metric_provisional_ = false;
  std::vector<LogRecord> records_;
  std::vector<MonitorPoint> points_;
  std::vector<MonitorWarning> warnings_;
  std::vector<std::string> notes_;
  std::vector<size_t> pending_;  // curve mode: indices of points waiting for calibration
  CurveFit calibration_;
  int calibration_count_ = 0;
  double tokens_per_step_ = 0;
  double last_tokens_ = -INFINITY;
  int seen_ = 0;  // usable points so far (for --skip)
  int run_above_ = 0, run_below_ = 0;
  bool flagged_ = false;
  std::vector<double> final_theta_;
  int ignored_ = 0;
};

// Batch helpers (a whole file at once): the metric auto would pick, and how many evaluations of
// a metric the records hold.
Metric resolve_metric(const std::vector<LogRecord>& records, Metric requested);
int count_points(const std::vector<LogRecord>& records, Metric metric);

// The monitor's state as JSON (schema "scalinglab.monitor/1", docs/MONITOR.md).
nlohmann::json to_json(const Monitor& m, const std::string& format);

}  // namespace scalinglab::monitor
