#include "scalinglab/study/monitor_study.h"

#include <omp.h>

#include <cmath>
#include <filesystem>

#include "scalinglab/run/run_spec.h"

namespace scalinglab::study {

StudyRun load_study_run(const std::string& dir) {
  namespace fs = std::filesystem;
  StudyRun r;
  r.name = fs::path(dir).filename().string();
  if (r.name.empty()) r.name = fs::path(dir).parent_path().filename().string();
  const run::RunSpec spec = run::load_spec((fs::path(dir) / "config.json").string());
  r.schedule = spec.resolved_schedule();
  r.schedule_kind = train::to_string(r.schedule.kind);
  ParseOptions po;
  po.format = LogFormat::kJsonl;
  LogReader reader((fs::path(dir) / "metrics.jsonl").string(), po);
  std::vector<std::string> warnings;
  r.records = reader.read_all(warnings);
  return r;
}

namespace {

struct Watch {
  std::vector<MonitorPoint> points;
  std::vector<MonitorWarning> warnings;
  bool flagged = false;
};

Watch watch(const StudyRun& run, const std::vector<LogRecord>& records, const StudyOptions& so) {
  MonitorOptions o = so.monitor;
  o.source = run.name;
  o.schedule = run.schedule;
  Monitor m(o);
  for (const auto& r : records) m.add(r);
  m.finish();
  return {m.points(), m.warnings(), m.flagged()};
}

// Index of the point a flagging warning belongs to (its line), or -1.
long first_flag_index(const Watch& w) {
  for (const auto& x : w.warnings) {
    if (!x.flags) continue;
    for (size_t i = 0; i < w.points.size(); ++i)
      if (w.points[i].line == x.line) return static_cast<long>(i);
  }
  return -1;
}

}  // namespace

StudyResult run_study(const std::vector<StudyRun>& runs, const StudyOptions& options) {
  StudyResult res;
  res.options = options;
  res.runs.resize(runs.size());
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (size_t k = 0; k < runs.size(); ++k) {
    const StudyRun& run = runs[k];
    RunOutcome& out = res.runs[k];
    out.name = run.name;
    out.kind = run.schedule_kind;
    const double T = static_cast<double>(run.schedule.total_steps);
    for (auto it = run.records.rbegin(); it != run.records.rend(); ++it)
      if (it->eval_loss) {
        out.final_loss = *it->eval_loss;
        break;
      }
    Watch healthy = watch(run, run.records, options);
    out.flagged = healthy.flagged;
    const double peak = run.schedule.peak_lr;
    for (const auto& w : healthy.warnings) {
      if (!w.flags) continue;
      if (out.first_flag.empty()) out.first_flag = w.message;
      const double lr = train::learning_rate(run.schedule, static_cast<uint64_t>(std::max(0.0, w.step)));
      if (w.step > 0.3 * T && lr < 0.5 * peak) out.flagged_in_cooldown = true;
    }
    for (double f : options.estimate_at) {
      const MonitorPoint* best = nullptr;
      for (const auto& p : healthy.points)
        if (p.position <= f * T && p.final.ok) best = &p;
      if (best && std::isfinite(out.final_loss)) {
        out.estimate_error.push_back(best->final.loss.value / out.final_loss - 1);
        out.estimate_covered.push_back(best->final.loss.pi_lo <= out.final_loss && out.final_loss <= best->final.loss.pi_hi);
      } else {
        out.estimate_error.push_back(NAN);
        out.estimate_covered.push_back(NAN);
      }
    }
    for (double f : options.onsets) {
      std::vector<LogRecord> bad = run.records;
      for (auto& r : bad) {
        if (!r.step || *r.step < f * T) continue;
        if (r.eval_loss) *r.eval_loss *= 1 + options.shift;
        if (r.train_loss) *r.train_loss *= 1 + options.shift;
      }
      Watch w = watch(run, bad, options);
      long onset = -1;
      for (size_t i = 0; i < w.points.size(); ++i)
        if (w.points[i].position >= f * T) {
          onset = static_cast<long>(i);
          break;
        }
      const long flag = first_flag_index(w);
      int d = 0;
      if (flag >= 0 && onset >= 0 && flag < onset) d = -1;
      else if (flag >= onset && onset >= 0 && flag < onset + options.within) d = 1;
      out.detected.push_back(d);
    }
  }
  return res;
}

}  // namespace scalinglab::study
