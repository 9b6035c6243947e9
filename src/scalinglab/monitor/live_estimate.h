#pragma once
// The monitor watching a run as `scalinglab train` trains it: every metrics line goes to a
// curve-mode Monitor that knows the run's schedule, and once the first evaluations are in, the
// estimated final loss (the schedule-aware curve of every evaluation so far, at the last step,
// with its prediction interval) is written into the line and shown beside the ETA.
#include <memory>
#include <string>
#include <vector>

#include "scalinglab/monitor/monitor.h"
#include "scalinglab/train/metrics.h"
#include "scalinglab/train/schedule.h"

namespace scalinglab::monitor {

class LiveEstimate {
 public:
  // `schedule` is the run's (total_steps > 0); `source` names the log in messages.
  LiveEstimate(const train::ScheduleConfig& schedule, std::string source);
  // Lines already in the log (a resumed run): the monitor replays them; lines for steps the
  // resumed run retrains are replaced when their steps come again.
  void seed(const std::vector<train::MetricsRow>& rows);
  // Takes the next line; fills its est_final_* fields when an estimate exists and returns the
  // note "final ≈ L [lo, hi]" (empty before).
  std::string observe(train::MetricsRow& row);
  const Monitor& monitor() const { return *monitor_; }

 private:
  std::unique_ptr<Monitor> monitor_;
};

// "final ≈ 1.672 [1.62, 1.74]"
std::string final_note(const FinalEstimate& f);

}  // namespace scalinglab::monitor
