#pragma once
// Is a live training run on track? Each evaluation of the run (step, loss) is compared with a
// band of where it should be:
//   (a) law mode: the prediction of a fitted law at the run's N and its tokens so far, with the
//       law's bootstrap + run-to-run scatter band (monitor/law_band.h); needs token counts;
//   (b) curve mode: the loss curve the run's learning-rate schedule gives
//       (monitor/schedule_curve.h: the LR-annealing law of Tissue et al. 2024, over the areas of
//       the lr the log states or the schedule the options plan), fitted to the run's early
//       evaluations (the calibration window) and evaluated along the schedule, so a cooldown is
//       predicted rather than flagged. After the window each evaluation is judged against the
//       curve refitted to every evaluation up to `patience` evaluations before it: a run that
//       went wrong is compared with the healthy run's curve for the whole excursion that flags
//       it, while an error of the early curve does not persist into a false alarm.
// A run that stays outside the band on the same side for `patience` consecutive evaluations is
// flagged (a warning is raised once per excursion); a non-finite loss flags it at once. With the
// run's planned length known, the final loss is re-estimated after every evaluation from the
// curve refitted to all points so far.
//
// Positions: an evaluation sits at its step (updates done); a log with tokens but no steps uses
// the tokens as the position. Steps that go back (a resumed or restarted run: llm.c `-y 1`,
// nanoGPT's `init_from='resume'`, a JSONL log appended by a resumed job) mean the later segment
// replaces the overlapped one, as the trainers mean it: every record at or after the step the log
// went back to is dropped and the run is re-judged from there; restarts() says where and how many
// points were replaced.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/fit/fit_json.h"
#include "scalinglab/monitor/law_band.h"
#include "scalinglab/monitor/log_reader.h"
#include "scalinglab/monitor/lr_history.h"
#include "scalinglab/monitor/schedule_curve.h"
#include "scalinglab/train/schedule.h"

namespace scalinglab::monitor {

enum class PointStatus { kSkipped, kCalibrating, kCalibration, kUnjudged, kInside, kAbove, kBelow, kDiverged };
const char* status_name(PointStatus s);

struct FinalEstimate {
  bool ok = false;
  double step = NAN, tokens = NAN;  // where the run ends (tokens when known)
  int points = 0;                   // evaluations the curve was fitted to
  CurvePrediction loss;
};

struct MonitorPoint {
  long line = 0;        // source line (or tfevents record number)
  int64_t offset = -1;  // tfevents byte offset
  double step = NAN, tokens = NAN, loss = NAN;
  double position = NAN;  // step, or tokens when the log has no steps
  double lr = NAN;        // the lr at this step (log or plan), when known
  double predicted = NAN, lo = NAN, hi = NAN;  // the reference and its band here
  PointStatus status = PointStatus::kSkipped;
  int outside_run = 0;  // consecutive evaluations outside on this side, this one included
  FinalEstimate final;  // the final-loss estimate after this evaluation (when asked for)
};

struct MonitorWarning {
  std::string kind;  // "off-track", "ahead" (below the band, not flagging), "diverged", "restart", "input"
  long line = 0;
  double step = NAN, tokens = NAN;
  std::string message;
  bool flags = false;  // counts as the run being off track
};

// Where a log went back in steps and what the later segment replaced.
struct Restart {
  long line = 0;             // the first record of the later segment
  double from = NAN, to = NAN;  // the position reached before, and the one the log went back to
  int points_replaced = 0;   // evaluations of the monitored loss dropped
  int records_replaced = 0;  // records of any kind dropped
};

struct MonitorOptions {
  std::string source;  // file name, for messages
  Metric metric = Metric::kAuto;
  double tokens_per_step = 0;  // 0: the log's own tokens or announced tokens per step
  // Law mode when set.
  std::shared_ptr<const fit::FittedLaw> law;
  double params = 0;
  // The planned schedule (--schedule …, or the run's config.json): the lr of steps the log does
  // not state, and the rest of the run for the final-loss estimate. total_steps > 0 when set.
  std::optional<train::ScheduleConfig> schedule;
  double total_steps = 0;   // the run's planned steps (else the log's or the schedule's)
  double final_tokens = 0;  // the run's planned tokens (→ steps with tokens per step)
  // Curve mode calibration window: the first `calibrate_points` evaluations, or those up to
  // `calibrate_fraction` of the planned steps (when known), or those at positions ≤
  // `calibrate_position`. At least kMinCurvePoints either way.
  int calibrate_points = 0;
  double calibrate_fraction = 0;
  double calibrate_position = 0;
  ScheduleFitOptions curve;  // the anneal prior (curve.lambda is set from anneal_memory)
  // Steps an lr decrease keeps lowering the loss, 1/(1 − λ); 0: min(1000, 10% of the planned
  // steps), or 1000 (Tissue et al.'s λ = 0.999) when the run's length is not known up front.
  double anneal_memory = 0;
  // A calibration whose band at the run's end (or at 3× the window) is wider than this relative
  // half-width cannot tell a healthy run from a broken one: it is reported, not used.
  double max_band = 0.25;
  int patience = 3;
  // Flag a run that stays below the band too (else a warning of kind "ahead" that does not flag).
  bool flag_below = false;
  double level = 0.95;  // band coverage
  int skip = 0;         // evaluations ignored at the start, besides those at 0 and in warmup
  bool estimate_final = true;
  int refits = 200;  // the reference is refitted after each healthy evaluation, at most ~2× this many times a run
};

class Monitor {
 public:
  // Throws std::invalid_argument for inconsistent options (law without --params, bad level, …).
  explicit Monitor(MonitorOptions options);

  // Takes one record; returns the points whose evaluation it completed (in curve mode the
  // calibration points all arrive when the window closes). Throws io::InputError for a record
  // the monitor cannot use (no token count in law mode, loss ≤ 0).
  std::vector<MonitorPoint> add(const LogRecord& record);
  std::vector<MonitorPoint> add_all(const std::vector<LogRecord>& records);
  // End of input: a curve-mode run still calibrating is fitted with what it has (if enough).
  std::vector<MonitorPoint> finish();
  void add_warning(MonitorWarning w) { input_warnings_.push_back(std::move(w)); }

  const std::vector<MonitorPoint>& points() const { return points_; }
  std::vector<MonitorWarning> warnings() const;  // restarts, input, then the run's own in order
  const std::vector<std::string>& notes() const { return notes_; }
  const std::vector<Restart>& restarts() const { return restarts_; }
  bool flagged() const { return flagged_; }
  Metric metric() const { return metric_; }
  bool law_mode() const { return static_cast<bool>(law_band_); }
  bool calibrated() const { return calibration_.ok && calibration_usable_; }
  const ScheduleFit& calibration() const { return calibration_; }
  int calibration_points() const { return calibration_count_; }
  const MonitorOptions& options() const { return options_; }
  bool position_is_tokens() const { return position_is_tokens_; }
  bool lr_from_log() const { return lr_from_log_; }
  double planned_steps() const;  // 0 when unknown
  double tokens_per_step() const { return tokens_per_step_; }
  // Tokens at a position: the position itself, × tokens per step, or interpolated between the
  // log's own token counts; NaN when the log has none.
  double tokens_at(double position) const;
  // The reference and its band anywhere (plots); none before calibration.
  std::optional<Band> reference(double position) const;
  std::optional<FinalEstimate> final_estimate() const;  // the latest
  std::optional<Band> law_final() const;                // the law's prediction at the final tokens
  int evaluated() const;                                // points compared with the band

 private:
  void reset();
  std::vector<MonitorPoint> process(const LogRecord& r);
  void judge(size_t index);
  ScheduleFit fit_points(const std::vector<size_t>& idx) const;
  void refresh_reference(size_t index);
  std::vector<size_t> usable_points(size_t end) const;  // indices below `end` a curve may be fitted to
  void close_calibration();
  void update_final(MonitorPoint& p);
  bool restart_at(const LogRecord& r);
  // The lr the curve is evaluated on: the log's, then the plan (or the last lr held); with
  // neither, a constant lr to the planned end. Cached: rebuilt when the log's lr grows.
  const LrHistory& planned_lr() const;
  ScheduleFitOptions fit_options(double window_end) const;
  void note_once(const std::string& s);

  MonitorOptions options_;
  std::unique_ptr<LawBand> law_band_;
  Metric metric_;
  bool metric_provisional_ = false;
  std::vector<LogRecord> records_;  // every record so far (for replays)
  std::vector<MonitorPoint> points_;
  std::vector<MonitorWarning> warnings_, input_warnings_, restart_warnings_;
  std::vector<std::string> notes_;
  std::vector<Restart> restarts_;
  std::vector<size_t> pending_;  // curve mode: indices of points waiting for calibration
  ScheduleFit calibration_;  // the first fit, on the calibration window
  ScheduleFit reference_;    // the current fit: every usable evaluation up to `patience` before the newest
  size_t fitted_n_ = 0;      // evaluations in reference_
  bool calibration_usable_ = false;
  int calibration_count_ = 0;
  double tokens_per_step_ = 0, log_total_steps_ = 0;
  bool announced_tps_ = false;  // the log stated its tokens per step
  LrHistory lr_;
  std::optional<LrHistory> plan_;  // the planned schedule's lr
  mutable LrHistory cache_;
  mutable uint64_t cache_steps_ = UINT64_MAX;
  mutable uint64_t s2_ref_steps_ = 0;  // the reference anneal's S2, cached by run length
  mutable double s2_ref_ = 0;
  bool lr_from_log_ = false, position_is_tokens_ = false, position_known_ = false;
  double last_train_ = -INFINITY, last_eval_ = -INFINITY;  // last positions per kind (restarts)
  double last_position_ = -INFINITY;
  int seen_ = 0;  // usable points so far (for --skip)
  int run_above_ = 0, run_below_ = 0;
  bool flagged_ = false;
  bool replaying_ = false;
};

// Batch helpers (a whole file at once): the metric auto would pick, and how many evaluations of
// a metric the records hold.
Metric resolve_metric(const std::vector<LogRecord>& records, Metric requested);
int count_points(const std::vector<LogRecord>& records, Metric metric);

// The monitor's state as JSON (schema "scalinglab.monitor/2", docs/MONITOR.md).
nlohmann::json to_json(const Monitor& m, const std::string& format);

}  // namespace scalinglab::monitor
