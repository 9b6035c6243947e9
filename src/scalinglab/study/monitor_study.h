#pragma once
// How well does the monitor work on real training runs? Given finished runs (their logs and
// planned schedules), measures what docs/MONITOR.md states:
//   - false alarms: healthy runs flagged at all (and flagged during their cooldown);
//   - detection: the run made `shift` worse from an onset on (every evaluation at or after the
//     onset multiplied by 1 + shift: a step change like a learning-rate spike that does not
//     recover, a data change or a bad restart) flagged within `within` evaluations of the onset;
//   - the final-loss estimate, made at given fractions of the run, against the run's final loss.
// The monitor sees each run exactly as `scalinglab monitor` would (same options), one record at a
// time.
#include <optional>
#include <string>
#include <vector>

#include "scalinglab/monitor/log_reader.h"
#include "scalinglab/monitor/monitor.h"

namespace scalinglab::study {

using monitor::LogFormat;
using monitor::LogRecord;
using monitor::LogReader;
using monitor::Monitor;
using monitor::MonitorOptions;
using monitor::MonitorPoint;
using monitor::MonitorWarning;
using monitor::ParseOptions;

struct StudyRun {
  std::string name;
  std::string schedule_kind;  // for grouping ("cosine", "wsd", …)
  std::vector<LogRecord> records;
  train::ScheduleConfig schedule;  // the planned schedule (total_steps > 0)
};

// Reads <dir>/metrics.jsonl and <dir>/config.json of a `scalinglab train` run directory.
// Throws io::InputError.
StudyRun load_study_run(const std::string& dir);

struct StudyOptions {
  MonitorOptions monitor;                 // source, schedule and calibration are set per run
  std::vector<double> onsets = {0.4, 0.5, 0.6, 0.7};  // fractions of the run
  double shift = 0.05;
  int within = 3;                          // evaluations from the onset, the onset included
  std::vector<double> estimate_at = {0.3, 0.5, 0.8};  // fractions of the run
  int threads = 0;
};

struct RunOutcome {
  std::string name, kind;
  bool flagged = false, flagged_in_cooldown = false;
  std::string first_flag;                    // the first warning, when flagged
  std::vector<int> detected;                 // per onset: 1 detected in time, 0 not, -1 flagged before the onset
  std::vector<double> estimate_error;        // per estimate_at: estimate / final − 1 (NaN: none)
  std::vector<double> estimate_covered;      // 1 when the final loss is inside the estimate's interval
  double final_loss = NAN;
};

struct StudyResult {
  std::vector<RunOutcome> runs;
  StudyOptions options;
};

StudyResult run_study(const std::vector<StudyRun>& runs, const StudyOptions& options);

}  // namespace scalinglab::study
