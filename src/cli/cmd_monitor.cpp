// `scalinglab monitor LOG`: is a live training run on track? Reads a training log (llm.c,
// nanoGPT, CSV/TSV, JSONL, W&B CSV export, TensorBoard events), compares every evaluation with a
// fitted law's prediction or the run's own early learning curve, warns when the run leaves the
// band for --patience evaluations and estimates the final loss. Exit code 0 on track, 3 when the
// run was flagged, 2 on bad input.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
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
#include "scalinglab/run/run_spec.h"
#include "scalinglab/util/printable.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::cli {
namespace {

using namespace scalinglab::monitor;

struct MonitorArgs {
  std::string log, format = "auto", metric = "auto", col_step, col_tokens, col_loss, law, html, json;
  std::string schedule, cooldown_shape = "1-sqrt";
  double tokens_per_step = 0, params = 0, calibrate_fraction = 0.3, final_tokens = 0, level = 0.95;
  double follow_timeout = 0, poll = 0.5, total_steps = 0, warmup_steps = 0, cooldown_frac = 0.2, final_lr_frac = -1;
  double anneal_memory = 0, anneal_drop = -1, anneal_drop_sd = -1, max_band = 0.25;
  int calibrate_points = 0, patience = 3, skip = 0, refresh = 5;
  bool follow = false, summary_only = false, no_config = false, flag_below = false;
};

// What the human-readable output goes to: stdout, or nothing when the JSON goes there.
std::ostream& human(bool json_on_stdout) {
  static std::ostream null(nullptr);
  return json_on_stdout ? null : std::cout;
}

constexpr int kFollowCalibrationDefault = 10;

class Printer {
 public:
  Printer(const Monitor& m, bool quiet, double level, std::ostream& out) : m_(m), quiet_(quiet), level_(level), out_(out) {}

  void points(const std::vector<MonitorPoint>& pts) {
    for (const auto& p : pts) {
      if (quiet_) continue;
      if (!header_) {
        out_ << pad("step", 9) << pad("tokens", 11) << pad("lr", 10) << pad("loss", 9) << pad("predicted", 10)
             << pad("band (" + fmt(100 * level_, 3) + "%)", 20) << pad("status", 13) << "final loss (" << fmt(100 * level_, 3)
             << "%)\n";
        header_ = true;
      }
      std::string status = status_name(p.status);
      if (p.outside_run > 0) status += " (" + std::to_string(p.outside_run) + ")";
      out_ << pad(std::isfinite(p.step) ? fmt(p.step, 9) : "-", 9) << pad(std::isfinite(p.tokens) ? fmt(p.tokens, 4) : "-", 11)
           << pad(std::isfinite(p.lr) ? fmt(p.lr, 3) : "-", 10) << pad(fmt(p.loss, 4), 9)
           << pad(std::isfinite(p.predicted) ? fmt(p.predicted, 4) : "-", 10)
           << pad(std::isfinite(p.lo) ? "[" + fmt(p.lo, 4) + ", " + fmt(p.hi, 4) + "]" : "-", 20) << pad(status, 13);
      if (p.final.ok)
        out_ << fmt(p.final.loss.value, 4) << " [" << fmt(p.final.loss.pi_lo, 4) << ", " << fmt(p.final.loss.pi_hi, 4) << "]";
      out_ << "\n";
    }
    news();
  }

  // Warnings, notes and the calibration, each printed once as it appears (a replay after a
  // restart rebuilds the monitor's lists, so they are remembered by content).
  void news() {
    if (!calibrated_ && m_.calibration().ok) {
      calibrated_ = true;
      const ScheduleFit& c = m_.calibration();
      out_ << "calibrated on " << m_.calibration_points() << " evaluations: L = " << fmt(c.L0, 4) << " + " << fmt(c.A, 4)
           << "·S1^-" << fmt(c.alpha, 3) << " − " << fmt(c.C, 3) << "·S2 (lr-annealing law; S1 summed lr, S2 annealing area"
           << (c.anneal_identified ? "" : "; C from the prior: no lr decrease yet") << "), noise " << fmt(100 * c.sigma, 2)
           << "% of the loss" << (m_.calibrated() ? "; later evaluations are judged against its extrapolation" : "") << "\n";
    }
    for (const auto& n : m_.notes())
      if (seen_.insert("n" + n).second) out_ << "note: " << util::printable(n) << "\n";
    for (const auto& w : m_.warnings()) {
      std::string key = "w" + std::to_string(w.line) + w.message;
      if (!seen_.insert(key).second) continue;
      out_ << "warning: "
           << (w.line > 0 && w.kind != "input" ? util::printable(m_.options().source) + ":" + std::to_string(w.line) + ": " : "")
           << util::printable(w.message) << "\n";
    }
    out_.flush();
  }

 private:
  const Monitor& m_;
  bool quiet_;
  double level_;
  std::ostream& out_;
  bool header_ = false, calibrated_ = false;
  std::set<std::string> seen_;
};

void write_outputs(const Monitor& m, const LogReader& reader, const MonitorArgs& a, bool live) {
  if (!a.html.empty()) io::write_file_atomic(a.html, render_monitor_html(m, format_name(reader.format()), live ? a.refresh : 0));
  if (a.json.empty() || (live && a.json == "-")) return;
  nlohmann::json j = to_json(m, format_name(reader.format()));
  nlohmann::json ig = nlohmann::json::array();
  long total = 0;
  for (const auto& [why, x] : reader.ignored()) {
    ig.push_back({{"reason", why}, {"count", x.count}, {"first_line", x.first_line}, {"first_example", x.first_example}});
    total += x.count;
  }
  j["ignored"] = {{"lines", total}, {"by_reason", ig}};
  const std::string text = j.dump(2) + "\n";
  if (a.json == "-") std::cout << text << std::flush;
  else io::write_file_atomic(a.json, text);
}

void summary(const Monitor& m, const LogReader& reader, const MonitorArgs& a, std::ostream& out) {
  int above = 0, below = 0, inside = 0;
  for (const auto& p : m.points()) {
    above += p.status == PointStatus::kAbove;
    below += p.status == PointStatus::kBelow;
    inside += p.status == PointStatus::kInside;
  }
  out << "summary: " << m.points().size() << " evaluations of the " << metric_name(m.metric()) << " loss ("
      << "format " << format_name(reader.format()) << "), " << m.evaluated() << " compared with the " << fmt(100 * a.level, 3)
      << "% band: " << inside << " inside, " << above << " above, " << below << " below\n";
  for (const auto& [why, ig] : reader.ignored())
    out << "ignored: " << ig.count << " line" << (ig.count == 1 ? "" : "s") << " (" << util::printable(why) << "; first: line "
        << ig.first_line << (ig.first_example.empty() ? "" : ": " + util::printable(ig.first_example)) << ")\n";
  for (const auto& r : m.restarts())
    out << "restart at line " << r.line << ": the log went back from " << (m.position_is_tokens() ? "tokens " : "step ")
        << fmt(r.from, 10) << " to " << fmt(r.to, 10) << "; " << r.points_replaced << " evaluations (" << r.records_replaced
        << " records) replaced by the later segment\n";
  if (auto f = m.final_estimate())
    out << "final loss at " << (m.position_is_tokens() ? "tokens " : "step ") << fmt(f->step, 10)
        << (std::isfinite(f->tokens) && !m.position_is_tokens() ? " (" + fmt(f->tokens, 4) + " tokens)" : "") << ": "
        << fmt(f->loss.value, 4) << " [" << fmt(f->loss.pi_lo, 4) << ", " << fmt(f->loss.pi_hi, 4)
        << "] (schedule-aware curve on " << f->points << " evaluations)\n";
  else if (!(m.planned_steps() > 0))
    out << "no final-loss estimate: the run's length is unknown (give --total-steps, --final-tokens or --schedule)\n";
  if (auto lf = m.law_final())
    out << "the law predicts " << fmt(lf->predicted, 4) << " [" << fmt(lf->lo, 4) << ", " << fmt(lf->hi, 4) << "] at "
        << fmt(a.final_tokens, 4) << " tokens\n";
  out << (m.flagged() ? "OFF TRACK (exit code 3)" : "on track") << "\n";
}

// The planned schedule: from --schedule, else from a scalinglab run directory's config.json
// beside its metrics.jsonl (the run states its own schedule), else none.
std::optional<train::ScheduleConfig> planned_schedule(const MonitorArgs& a, std::vector<std::string>& notes) {
  if (a.schedule == "none") return std::nullopt;
  if (!a.schedule.empty()) {
    train::ScheduleConfig c;
    try {
      c.kind = train::parse_schedule_kind(a.schedule);
      c.cooldown_shape = train::parse_cooldown_shape(a.cooldown_shape);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--schedule: ") + e.what());
    }
    if (!(a.total_steps > 0)) throw UsageError("--schedule needs --total-steps (the run's planned optimizer steps)");
    c.peak_lr = 1;
    c.total_steps = static_cast<uint64_t>(a.total_steps);
    c.warmup_steps = static_cast<uint64_t>(a.warmup_steps);
    c.cooldown_frac = a.cooldown_frac;
    if (a.final_lr_frac >= 0) c.final_frac = a.final_lr_frac;
    try {
      train::validate(c);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--schedule: ") + e.what());
    }
    return c;
  }
  if (a.no_config) return std::nullopt;
  namespace fs = std::filesystem;
  fs::path log(a.log);
  fs::path cfg = log.parent_path() / "config.json";
  if (log.filename() != "metrics.jsonl" || !fs::exists(cfg)) return std::nullopt;
  try {
    const run::RunSpec spec = run::load_spec(cfg.string());
    notes.push_back("schedule from " + cfg.string() + ": " + train::to_string(spec.schedule.kind) + ", " +
                    std::to_string(spec.steps()) + " steps (--no-config to ignore it)");
    return spec.resolved_schedule();
  } catch (const std::exception& e) {
    notes.push_back("ignored " + cfg.string() + " (not a scalinglab run config: " + e.what() + ")");
    return std::nullopt;
  }
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
  mo.total_steps = a.total_steps;
  mo.flag_below = a.flag_below;
  mo.max_band = std::log1p(a.max_band);
  mo.anneal_memory = a.anneal_memory;
  if (a.anneal_drop >= 0) mo.curve.prior.drop = a.anneal_drop;
  if (a.anneal_drop_sd >= 0) mo.curve.prior.drop_sd = a.anneal_drop_sd;
  std::vector<std::string> config_notes;
  mo.schedule = planned_schedule(a, config_notes);
  if (!a.law.empty()) mo.law = std::make_shared<fit::FittedLaw>(fit::load_fit(a.law));
  if (!(a.calibrate_fraction > 0 && a.calibrate_fraction <= 1)) throw UsageError("--calibrate-fraction must be in (0, 1]");
  if (a.calibrate_points > 0) mo.calibrate_points = std::max(a.calibrate_points, kMinCurvePoints);
  else mo.calibrate_fraction = a.calibrate_fraction;
  const bool json_stdout = a.json == "-";
  std::ostream& out = human(json_stdout);

  LogReader reader(a.log, po);
  std::vector<std::string> input_warnings;
  std::unique_ptr<Monitor> m;
  auto make = [&] {
    try {
      m = std::make_unique<Monitor>(mo);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    for (const auto& n : config_notes) out << "note: " << util::printable(n) << "\n";
  };

  if (!a.follow) {
    auto records = reader.read_all(input_warnings);
    if (reader.format() == LogFormat::kAuto) throw io::InputError(a.log, 0, "", "the log is empty");
    mo.metric = resolve_metric(records, po.metric);
    if (mo.metric == Metric::kAuto) mo.metric = Metric::kEval;
    if (!mo.law && mo.calibrate_points <= 0) {
      // Used when the run's planned length stays unknown: the fraction of the log's evaluations.
      int n = std::max(0, count_points(records, mo.metric) - a.skip);
      mo.calibrate_points = std::max(kMinCurvePoints, static_cast<int>(std::ceil(a.calibrate_fraction * n)));
    }
    make();
    Printer pr(*m, a.summary_only, a.level, out);
    for (const auto& r : records) pr.points(m->add(r));  // one at a time: news print where they happen
    for (const auto& w : input_warnings) m->add_warning({"input", 0, NAN, NAN, w, false});
    pr.points(m->finish());
  } else {
    if (!mo.law && mo.calibrate_points <= 0) mo.calibrate_points = kFollowCalibrationDefault;
    make();
    util::install_interrupt_handler();
    Printer pr(*m, a.summary_only, a.level, out);
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
  summary(*m, reader, a, out);
  if (m->flagged()) exit_code_ref() = 3;
}

}  // namespace

void register_monitor(CLI::App& app) {
  auto a = std::make_shared<MonitorArgs>();
  CLI::App* cmd = app.add_subcommand("monitor", "Is a live training run on track? Compare its log with a law or its own early curve");
  cmd->add_option("log", a->log, "training log: llm.c/nanoGPT/modded-nanogpt output, llm.c main.log, CSV/TSV (Lightning metrics.csv), JSONL (metrics.jsonl), W&B CSV export, TensorBoard events file, Hugging Face trainer_state.json")
      ->required();
  cmd->add_option("--format", a->format, "auto|log|csv|tsv|jsonl|wandb|tfevents|trainer-state (default: detected from the content)");
  cmd->add_option("--metric", a->metric, "auto|train|eval: which loss to monitor (auto: eval when the log has it)");
  cmd->add_option("--col-step", a->col_step, "column/key holding the step");
  cmd->add_option("--col-tokens", a->col_tokens, "column/key holding the tokens seen so far");
  cmd->add_option("--col-loss", a->col_loss, "column/key/tag holding the loss to monitor");
  cmd->add_option("--tokens-per-step", a->tokens_per_step, "tokens per optimizer step, when the log has no token counts")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--law", a->law, "fit JSON from `scalinglab fit --json`: compare with the law's prediction at --params N");
  cmd->add_option("--params", a->params, "the run's parameter count N (with --law)")->check(CLI::PositiveNumber);
  cmd->add_option("--calibrate-fraction", a->calibrate_fraction,
                  "without --law: fit the curve to this early part of the run (of its planned steps, else of the log's evaluations; default 0.3)");
  cmd->add_option("--schedule", a->schedule,
                  "the run's planned lr schedule, cosine|wsd|constant (with --total-steps): the lr where the log states none and "
                  "the rest of the run; none: ignore a run directory's config.json");
  cmd->add_option("--total-steps", a->total_steps, "the run's planned optimizer steps")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup-steps", a->warmup_steps, "with --schedule: warmup steps (default 0)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--cooldown-frac", a->cooldown_frac, "with --schedule wsd: fraction of the run in the cooldown (default 0.2)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--cooldown-shape", a->cooldown_shape, "with --schedule wsd: linear|1-sqrt (default 1-sqrt)");
  cmd->add_option("--final-lr-frac", a->final_lr_frac, "with --schedule: final lr / peak (default 0.1 cosine, 0 wsd)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--flag-below", a->flag_below,
                "flag a run that stays below the band too (default: a warning only — better than predicted is not going wrong)");
  cmd->add_flag("--no-config", a->no_config, "do not read the schedule from a scalinglab run directory's config.json");
  cmd->add_option("--anneal-memory", a->anneal_memory,
                  "steps an lr decrease keeps lowering the loss, 1/(1-λ) of the lr-annealing law (default: 10% of the run, at most 1000)")
      ->check(CLI::Range(1.0, 1e9));
  cmd->add_option("--anneal-drop", a->anneal_drop,
                  "prior for the annealing coefficient when the window has no lr decrease: the relative loss drop of a linear "
                  "cooldown to 0 over the last 20% of the run (default " + fmt(AnnealPrior{}.drop, 3) + ")")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--anneal-drop-sd", a->anneal_drop_sd, "its standard deviation (default " + fmt(AnnealPrior{}.drop_sd, 3) + ")")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-band", a->max_band,
                  "a calibration whose band at the run's end is wider than ± this fraction is reported, not used (default 0.25)")
      ->check(CLI::Range(0.001, 10.0));
  cmd->add_option("--calibrate-points", a->calibrate_points, "without --law: fit the learning curve to the first K evaluations")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--skip", a->skip, "ignore the first K evaluations (warmup); those at 0 tokens are always ignored")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--patience", a->patience, "warn after K consecutive evaluations outside the band (default 3)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--level", a->level, "coverage of the band (default 0.95)")->check(CLI::Range(0.5, 0.9999));
  cmd->add_option("--final-tokens", a->final_tokens, "the run's planned tokens (→ its steps, with the tokens per step)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--follow", a->follow, "keep reading the log as it grows (Ctrl-C to stop)");
  cmd->add_option("--follow-timeout", a->follow_timeout, "with --follow: stop after S seconds without growth")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--poll", a->poll, "with --follow: seconds between reads (default 0.5)")->check(CLI::Range(0.01, 60.0));
  cmd->add_option("--html", a->html, "write a self-updating HTML page (rewritten at each update)");
  cmd->add_option("--refresh", a->refresh, "with --follow --html: page refresh period in seconds (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--json", a->json, "write all points and warnings as JSON ('-': only the JSON, on stdout)");
  cmd->add_flag("--summary", a->summary_only, "print only the summary, not a line per evaluation");
  cmd->callback([a] { run_monitor(*a); });
}

}  // namespace scalinglab::cli
