#include "scalinglab/monitor/live_estimate.h"

#include <cstdio>

namespace scalinglab::monitor {

namespace {

LogRecord to_record(const train::MetricsRow& row, long line) {
  LogRecord r;
  r.line = line;
  r.step = static_cast<double>(row.step);
  r.tokens = static_cast<double>(row.tokens);
  r.train_loss = row.train_loss;
  r.eval_loss = row.eval_loss;
  if (row.lr > 0) r.lr = row.lr;
  return r;
}

}  // namespace

LiveEstimate::LiveEstimate(const train::ScheduleConfig& schedule, std::string source) {
  MonitorOptions o;
  o.source = std::move(source);
  o.metric = Metric::kEval;
  o.schedule = schedule;
  o.calibrate_fraction = 0.3;
  monitor_ = std::make_unique<Monitor>(o);
}

void LiveEstimate::seed(const std::vector<train::MetricsRow>& rows) {
  long line = 0;
  for (const auto& row : rows) monitor_->add(to_record(row, ++line));
}

std::string LiveEstimate::observe(train::MetricsRow& row) {
  monitor_->add(to_record(row, 0));
  auto f = monitor_->final_estimate();
  if (!f) return "";
  row.est_final_loss = f->loss.value;
  row.est_final_lo = f->loss.pi_lo;
  row.est_final_hi = f->loss.pi_hi;
  return final_note(*f);
}

std::string final_note(const FinalEstimate& f) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "final ≈ %.4g [%.4g, %.4g]", f.loss.value, f.loss.pi_lo, f.loss.pi_hi);
  return buf;
}

}  // namespace scalinglab::monitor
