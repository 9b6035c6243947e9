// `scalinglab monitor LOG`: is a live training run on track? Reads a training log (llm.c,
// nanoGPT, CSV/TSV, JSONL, W&B CSV export, TensorBoard events), compares every evaluation with a
// fitted law's prediction or the run's own early learning curve, warns when the run leaves the
// band for --patience evaluations and estimates the final loss. Exit code 0 on track, 3 when the
// run was flagged, 2 on bad input.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/format.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/monitor/monitor.h"
#include "scalinglab/monitor/monitor_html.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::cli {
namespace {

using namespace scalinglab::monitor;

struct MonitorArgs {
  std::string log, format = "auto", metric = "auto", col_step, col_tokens, col_loss, law, html, json;
  double tokens_per_step = 0, params = 0, calibrate_fraction = 0.4, final_tokens = 0, level = 0.95;
  double follow_timeout = 0, poll = 0.5;
  int calibrate_points = 0, patience = 3, skip = 0, refresh = 5;
  bool follow = false, summary_only = false;
};

constexpr int kFollowCalibrationDefault = 10;

class Printer {
 public:
  Printer(const Monitor& m, bool quiet, double level) : m_(m), quiet_(quiet), level_(level) {}

  void points(const std::vector<MonitorPoint>& pts) {
    for (const auto& p : pts) {
      if (quiet_) continue;
      if (!header_) {
        std::cout << pad("step", 9) << pad("tokens", 11) << pad("loss", 9) << pad("predicted", 10)
                  << pad("band (" + fmt(100 * level_, 3) + "%)", 20) << pad("status", 13)
                  << (m_.options().final_tokens > 0 ? "final loss (" + fmt(100 * level_, 3) + "%)" : "") << "\n";
        header_ = true;
      }
      std::string status = status_name(p.status);
      if (p.outside_run > 0) status += " (" + std::to_string(p.outside_run) + ")";
      std::cout << pad(std::isfinite(p.step) ? fmt(p.step, 9) : "-", 9) << pad(fmt(p.tokens, 4), 11) << pad(fmt(p.loss, 4), 9)
                << pad(fmt(p.predicted, 4), 10)
                << pad(std::isfinite(p.lo) ? "[" + fmt(p.lo, 4) + ", " + fmt(p.hi, 4) + "]" : "-", 20) << pad(status, 13);
      if (p.final.ok)
        std::cout << fmt(p.final.loss.value, 4) << " [" << fmt(p.final.loss.pi_lo, 4) << ", " << fmt(p.final.loss.pi_hi, 4) << "]";
      std::cout << "\n";
    }
    news();
  }

  // Warnings, notes and the calibration, each printed once as it appears.
  void news() {
    if (!calibrated_ && m_.calibrated()) {
      calibrated_ = true;
      const CurveFit& c = m_.calibration();
      std::cout << "calibrated on " << m_.calibration_points() << " evaluations: L(D) = " << fmt(c.E, 4) << " + "
                << fmt(c.B, 4) << "·D^-" << fmt(c.beta, 3) << ", noise " << fmt(100 * c.sigma, 2)
                << "% of the loss; later evaluations are judged against its extrapolation\n";
    }
    for (; notes_ < m_.notes().size(); ++notes_) std::cout << "note: " << m_.notes()[notes_] << "\n";
    for (; warnings_ < m_.warnings().size(); ++warnings_) {
      const auto& w = m_.warnings()[warnings_];
      std::cout << "warning: " << (w.line > 0 && w.kind != "input" ? m_.options().source + ":" + std::to_string(w.line) + ": " : "")
                << w.message << "\n";
    }
    std::cout.flush();
  }

 private:
  const Monitor& m_;
  bool quiet_;
  double level_;
  bool header_ = false, calibrated_ = false;
  size_t notes_ = 0, warnings_ = 0;
};

void write_outputs(const Monitor& m, const LogReader& reader, const MonitorArgs& a, bool live) {
  if (!a.html.empty()) io::write_file_atomic(a.html, render_monitor_html(m, format_name(reader.format()), live ? a.refresh : 0));
  if (!a.json.empty() && !(live && a.json == "-")) io::write_file_atomic(a.json, to_json(m, format_name(reader.format())).dump(2) + "\n");
}

void summary(const Monitor& m, const LogReader& reader, const MonitorArgs& a) {
  int above = 0, below = 0, inside = 0;
  for (const auto& p : m.points()) {
    above += p.status == PointStatus::kAbove;
    below += p.status == PointStatus::kBelow;
    inside += p.status == PointStatus::kInside;
  }
  std::cout << "summary: " << m.points().size() << " evaluations of the " << metric_name(m.metric()) << " loss ("
            << "format " << format_name(reader.format()) << "), " << m.evaluated() << " compared with the " << fmt(100 * a.level, 3)
            << "% band: " << inside << " inside, " << above << " above, " << below << " below\n";
  if (auto f = m.final_estimate())
    std::cout << "final loss at " << fmt(f->tokens, 4) << " tokens: " << fmt(f->loss.value, 4) << " [" << fmt(f->loss.pi_lo, 4)
              << ", " << fmt(f->loss.pi_hi, 4) << "] (learning curve on " << f->points << " evaluations)\n";
  if (auto lf = m.law_final())
    std::cout << "the law predicts " << fmt(lf->predicted, 4) << " [" << fmt(lf->lo, 4) << ", " << fmt(lf->hi, 4)
              << "] at " << fmt(a.final_tokens, 4) << " tokens\n";
  std::cout << (m.flagged() ? "OFF TRACK (exit code 3)" : "on track") << "\n";
}

void run_monitor(const MonitorArgs& a) {
  ParseOptions po;
  try {
    po.format = parse_format(a.format);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--format: ") + e.what());
  }
  if (a.metric == "train") po.metric = Metric::kTrain;
  else if (a.metric == "eval") po.metric = Metric::kEval;
  else if (a.metric != "auto") throw UsageError("--metric: expected auto, train or eval, got '" + a.metric + "'");
  po.col_step = a.col_step;
  po.col_tokens = a.col_tokens;
  po.col_loss = a.col_loss;

  MonitorOptions mo;
  mo.source = a.log;
  mo.metric = po.metric;
  mo.tokens_per_step = a.tokens_per_step;
  mo.params = a.params;
  mo.final_tokens = a.final_tokens;
  mo.patience = a.patience;
  mo.level = a.level;
  mo.skip = a.skip;
  if (!a.law.empty()) mo.law = std::make_shared<fit::FittedLaw>(fit::load_fit(a.law));
  if (!(a.calibrate_fraction > 0 && a.calibrate_fraction <= 1)) throw UsageError("--calibrate-fraction must be in (0, 1]");
  if (a.calibrate_points > 0) mo.calibrate_points = std::max(a.calibrate_points, kMinCurvePoints);
  else if (a.final_tokens > 0) mo.calibrate_tokens = a.calibrate_fraction * a.final_tokens;

  LogReader reader(a.log, po);
  std::vector<std::string> input_warnings;
  std::unique_ptr<Monitor> m;
  auto make = [&] {
    try {
      m = std::make_unique<Monitor>(mo);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  };

  if (!a.follow) {
    auto records = reader.poll(false);
    auto tail = reader.finish(input_warnings);
    records.insert(records.end(), tail.begin(), tail.end());
    if (reader.format() == LogFormat::kAuto) throw io::InputError(a.log, 0, "", "the log is empty");
    mo.metric = resolve_metric(records, po.metric);
    if (mo.metric == Metric::kAuto) mo.metric = Metric::kEval;
    if (!mo.law && mo.calibrate_points <= 0 && !(mo.calibrate_tokens > 0)) {
      int n = std::max(0, count_points(records, mo.metric) - a.skip);
      mo.calibrate_points = std::max(kMinCurvePoints, static_cast<int>(std::ceil(a.calibrate_fraction * n)));
    }
    make();
    Printer pr(*m, a.summary_only, a.level);
    for (const auto& r : records) pr.points(m->add(r));  // one at a time: news print where they happen
    for (const auto& w : input_warnings) m->add_warning({"input", 0, NAN, NAN, w, false});
    pr.points(m->finish());
  } else {
    if (!mo.law && mo.calibrate_points <= 0 && !(mo.calibrate_tokens > 0)) mo.calibrate_points = kFollowCalibrationDefault;
    make();
    util::install_interrupt_handler();
    Printer pr(*m, a.summary_only, a.level);
    auto last_growth = std::chrono::steady_clock::now();
    while (true) {
      bool grew = false;
      auto recs = reader.poll(true, &grew);
      if (!recs.empty()) {
        pr.points(m->add_all(recs));
        write_outputs(*m, reader, a, true);
      }
      auto now = std::chrono::steady_clock::now();
      if (grew) last_growth = now;
      if (util::interrupted()) break;
      if (a.follow_timeout > 0 && std::chrono::duration<double>(now - last_growth).count() >= a.follow_timeout) break;
      // Sleep in short slices so Ctrl-C is seen promptly.
      auto until = now + std::chrono::duration<double>(a.poll);
      while (std::chrono::steady_clock::now() < until && !util::interrupted())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto tail = reader.finish(input_warnings);
    if (reader.format() == LogFormat::kAuto)
      throw io::InputError(a.log, 0, "", "no log data arrived before following stopped");
    pr.points(m->add_all(tail));
    for (const auto& w : input_warnings) m->add_warning({"input", 0, NAN, NAN, w, false});
    pr.points(m->finish());
  }
  if (m->points().empty()) {
    std::string avail = reader.available();
    std::string which = m->metric() == Metric::kAuto ? "" : std::string(metric_name(m->metric())) + " ";
    throw io::InputError(a.log, 0, "", "no " + which + "loss values found (format " + format_name(reader.format()) +
                                           (avail.empty() ? "" : "; " + avail) + ")" +
                                           (a.col_loss.empty() ? "; name the loss with --col-loss" : ""));
  }
  write_outputs(*m, reader, a, false);
  summary(*m, reader, a);
  if (m->flagged()) exit_code_ref() = 3;
}

}  // namespace

void register_monitor(CLI::App& app) {
  auto a = std::make_shared<MonitorArgs>();
  CLI::App* cmd = app.add_subcommand("monitor", "Is a live training run on track? Compare its log with a law or its own early curve");
  cmd->add_option("log", a->log, "training log: llm.c/nanoGPT output, llm.c main.log, CSV/TSV, JSONL (metrics.jsonl), W&B CSV export, TensorBoard events file")
      ->required();
  cmd->add_option("--format", a->format, "auto|log|csv|tsv|jsonl|wandb|tfevents (default: detected from the content)");
  cmd->add_option("--metric", a->metric, "auto|train|eval: which loss to monitor (auto: eval when the log has it)");
  cmd->add_option("--col-step", a->col_step, "column/key holding the step");
  cmd->add_option("--col-tokens", a->col_tokens, "column/key holding the tokens seen so far");
  cmd->add_option("--col-loss", a->col_loss, "column/key/tag holding the loss to monitor");
  cmd->add_option("--tokens-per-step", a->tokens_per_step, "tokens per optimizer step, when the log has no token counts")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--law", a->law, "fit JSON from `scalinglab fit --json`: compare with the law's prediction at --params N");
  cmd->add_option("--params", a->params, "the run's parameter count N (with --law)")->check(CLI::PositiveNumber);
  cmd->add_option("--calibrate-fraction", a->calibrate_fraction,
                  "without --law: fit the learning curve to this early part of the run (of --final-tokens, else of the points; default 0.4)");
  cmd->add_option("--calibrate-points", a->calibrate_points, "without --law: fit the learning curve to the first K evaluations")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--skip", a->skip, "ignore the first K evaluations (warmup); those at 0 tokens are always ignored")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--patience", a->patience, "warn after K consecutive evaluations outside the band (default 3)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--level", a->level, "coverage of the band (default 0.95)")->check(CLI::Range(0.5, 0.9999));
  cmd->add_option("--final-tokens", a->final_tokens, "the run's planned tokens: estimate its final loss as it goes")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--follow", a->follow, "keep reading the log as it grows (Ctrl-C to stop)");
  cmd->add_option("--follow-timeout", a->follow_timeout, "with --follow: stop after S seconds without growth")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--poll", a->poll, "with --follow: seconds between reads (default 0.5)")->check(CLI::Range(0.01, 60.0));
  cmd->add_option("--html", a->html, "write a self-updating HTML page (rewritten at each update)");
  cmd->add_option("--refresh", a->refresh, "with --follow --html: page refresh period in seconds (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--json", a->json, "write all points and warnings as JSON ('-' for stdout)");
  cmd->add_flag("--summary", a->summary_only, "print only the summary, not a line per evaluation");
  cmd->callback([a] { run_monitor(*a); });
}

}  // namespace scalinglab::cli
