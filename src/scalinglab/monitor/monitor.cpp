#include "scalinglab/monitor/monitor.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "scalinglab/io/input_error.h"

namespace scalinglab::monitor {

const char* status_name(PointStatus s) {
  switch (s) {
    case PointStatus::kSkipped: return "skipped";
    case PointStatus::kCalibrating: return "calibrating";
    case PointStatus::kCalibration: return "calibration";
    case PointStatus::kUnjudged: return "unjudged";
    case PointStatus::kInside: return "ok";
    case PointStatus::kAbove: return "above";
    case PointStatus::kBelow: return "below";
    case PointStatus::kDiverged: return "diverged";
  }
  return "?";
}

namespace {

std::string num(double v, int digits = 4) {
  std::ostringstream s;
  s.precision(digits);
  s << v;
  return s.str();
}

bool judged(PointStatus s) { return s == PointStatus::kInside || s == PointStatus::kAbove || s == PointStatus::kBelow; }
bool usable(PointStatus s) {
  return judged(s) || s == PointStatus::kCalibrating || s == PointStatus::kCalibration || s == PointStatus::kUnjudged;
}

std::optional<double> position_of(const LogRecord& r) {
  if (r.step) return *r.step;
  if (r.tokens) return *r.tokens;
  return std::nullopt;
}

}  // namespace

Monitor::Monitor(MonitorOptions options) : options_(std::move(options)), metric_(options_.metric) {
  if (!(options_.level > 0 && options_.level < 1)) throw std::invalid_argument("the band level must be in (0, 1)");
  if (options_.patience < 1) throw std::invalid_argument("patience must be at least 1");
  if (options_.skip < 0) throw std::invalid_argument("skip must be ≥ 0");
  if (options_.anneal_memory < 0) throw std::invalid_argument("anneal_memory must be ≥ 0 (0: automatic)");
  {
    // Tissue et al.'s λ = 0.999 (an lr drop acts for ~1,000 steps) suits their runs of tens of
    // thousands of steps; in a shorter run the loss answers a drop faster: 10% of the run, which
    // makes the fitted anneal drops of the project's cosine and WSD runs agree (docs/MONITOR.md).
    double memory = options_.anneal_memory;
    const double T = planned_steps();
    if (!(memory > 0)) memory = T > 0 ? std::min(1000.0, std::max(10.0, 0.1 * T)) : 1000.0;
    options_.curve.lambda = 1 - 1 / std::max(memory, 1.0);
  }
  if (options_.law) {
    law_band_ = std::make_unique<LawBand>(options_.law, options_.params, options_.level);
  } else if (options_.calibrate_points <= 0 && !(options_.calibrate_fraction > 0) && !(options_.calibrate_position > 0)) {
    throw std::invalid_argument("curve mode needs a calibration window (calibrate_points, calibrate_fraction or calibrate_position)");
  }
  if (options_.schedule) plan_ = LrHistory::from_schedule(*options_.schedule, options_.curve.lambda);
  reset();
}

void Monitor::reset() {
  points_.clear();
  warnings_.clear();
  pending_.clear();
  calibration_ = reference_ = ScheduleFit{};
  fitted_n_ = 0;
  calibration_usable_ = false;
  calibration_count_ = 0;
  tokens_per_step_ = options_.tokens_per_step;
  announced_tps_ = false;
  log_total_steps_ = 0;
  lr_ = LrHistory(options_.curve.lambda);
  lr_from_log_ = position_is_tokens_ = position_known_ = false;
  cache_steps_ = UINT64_MAX;
  last_train_ = last_eval_ = last_position_ = -INFINITY;
  seen_ = 0;
  run_above_ = run_below_ = 0;
  flagged_ = false;
}

void Monitor::note_once(const std::string& s) {
  if (std::find(notes_.begin(), notes_.end(), s) == notes_.end()) notes_.push_back(s);
}

std::vector<MonitorWarning> Monitor::warnings() const {
  std::vector<MonitorWarning> w = restart_warnings_;
  w.insert(w.end(), input_warnings_.begin(), input_warnings_.end());
  w.insert(w.end(), warnings_.begin(), warnings_.end());
  return w;
}

double Monitor::planned_steps() const {
  if (position_is_tokens_) return options_.final_tokens;
  if (options_.total_steps > 0) return options_.total_steps;
  if (options_.final_tokens > 0 && tokens_per_step_ > 0) return std::round(options_.final_tokens / tokens_per_step_);
  if (options_.schedule) return static_cast<double>(options_.schedule->total_steps);
  return log_total_steps_;
}

std::vector<MonitorPoint> Monitor::add_all(const std::vector<LogRecord>& records) {
  std::vector<MonitorPoint> out;
  for (const auto& r : records) {
    auto p = add(r);
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

bool Monitor::restart_at(const LogRecord& r) {
  auto pos = position_of(r);
  if (!pos || !std::isfinite(*pos)) return false;
  const double last = std::max(last_train_, last_eval_);
  const bool back = *pos < last || (r.eval_loss && *pos == last_eval_) || (r.train_loss && *pos == last_train_);
  if (!back) return false;
  Restart rs;
  rs.line = r.line;
  rs.from = last;
  rs.to = *pos;
  std::vector<LogRecord> kept;
  for (const auto& x : records_) {
    auto xp = position_of(x);
    if (xp && *xp >= *pos) ++rs.records_replaced;
    else kept.push_back(x);
  }
  for (const auto& p : points_) rs.points_replaced += p.position >= *pos;
  restarts_.push_back(rs);
  const bool tokens = !r.step;
  restart_warnings_.push_back(
      {"restart", r.line, r.step ? *r.step : NAN, r.tokens ? *r.tokens : NAN,
       std::string(tokens ? "tokens" : "steps") + " go back from " + num(last, 10) + " to " + num(*pos, 10) +
           " (a resumed or restarted run): the later segment replaces " + std::to_string(rs.points_replaced) + " evaluation" +
           (rs.points_replaced == 1 ? "" : "s") + " (" + std::to_string(rs.records_replaced) + " record" +
           (rs.records_replaced == 1 ? "" : "s") + ") from " + (tokens ? "tokens " : "step ") + num(*pos, 10) + " on",
       false});
  records_ = std::move(kept);
  reset();
  replaying_ = true;
  for (const auto& x : records_) process(x);
  replaying_ = false;
  return true;
}

std::vector<MonitorPoint> Monitor::add(const LogRecord& r) {
  restart_at(r);
  records_.push_back(r);
  if (options_.metric == Metric::kAuto) {
    if (metric_ == Metric::kAuto) {
      if (r.eval_loss) metric_ = Metric::kEval;
      else if (r.train_loss) metric_ = Metric::kTrain, metric_provisional_ = true;
    } else if (metric_provisional_ && r.eval_loss) {
      // Auto prefers the eval loss; the log only now shows it has one: start over on it.
      metric_ = Metric::kEval;
      metric_provisional_ = false;
      note_once("the log has an eval loss from line " + std::to_string(r.line) +
                " on: monitoring it instead of the train loss (--metric train to keep the train loss)");
      reset();
      std::vector<MonitorPoint> out;
      for (const auto& x : records_) {
        auto p = process(x);
        out.insert(out.end(), p.begin(), p.end());
      }
      return out;
    }
  }
  return process(r);
}

std::vector<MonitorPoint> Monitor::process(const LogRecord& r) {
  if (r.tokens_per_step && !(options_.tokens_per_step > 0)) tokens_per_step_ = *r.tokens_per_step;
  // A log with both counts (scalinglab's metrics.jsonl, many CSVs): its own tokens per step.
  if (r.step && r.tokens && *r.step > 0 && *r.tokens > 0 && !(options_.tokens_per_step > 0) && !r.tokens_per_step &&
      !announced_tps_)
    tokens_per_step_ = *r.tokens / *r.step;
  if (r.tokens_per_step) announced_tps_ = true;
  if (r.total_steps && *r.total_steps > 0) log_total_steps_ = *r.total_steps;
  auto pos = position_of(r);
  if (pos && std::isfinite(*pos)) {
    if (!r.step && !position_known_) position_is_tokens_ = true;
    position_known_ = true;
    if (r.lr && lr_.add(*pos, *r.lr)) lr_from_log_ = true;
    if (r.train_loss) last_train_ = std::max(last_train_, *pos);
    if (r.eval_loss) last_eval_ = std::max(last_eval_, *pos);
  }
  std::optional<double> loss = metric_ == Metric::kEval ? r.eval_loss : metric_ == Metric::kTrain ? r.train_loss : std::nullopt;
  if (!loss) return {};
  auto fail = [&](const std::string& what) {
    if (r.offset >= 0)
      return io::InputError(options_.source, 0, "", "record " + std::to_string(r.line) + " at byte offset " +
                                                        std::to_string(r.offset) + ": " + what);
    return io::InputError(options_.source, r.line, "", what);
  };
  if (!pos || !std::isfinite(*pos)) throw fail("the evaluation has no step or token count");
  MonitorPoint p;
  p.line = r.line;
  p.offset = r.offset;
  p.step = r.step ? *r.step : NAN;
  p.position = *pos;
  p.loss = *loss;
  if (r.tokens) p.tokens = *r.tokens;
  else if (tokens_per_step_ > 0 && r.step) p.tokens = *r.step * tokens_per_step_;
  if (law_band_ && !std::isfinite(p.tokens))
    throw fail("no token count for this evaluation, which a law's prediction needs: the log states neither tokens nor "
               "tokens per step; give --tokens-per-step");
  if (std::isfinite(p.tokens) && p.tokens < 0) throw fail("tokens must be a non-negative number, got " + num(p.tokens));
  if (std::isfinite(p.loss) && p.loss <= 0) throw fail("the loss must be positive, got " + num(p.loss));
  if (p.position < 0) throw fail("the step must be non-negative, got " + num(p.position));
  last_position_ = p.position;
  bool warming = false;
  if (lr_from_log_ || options_.schedule) {
    const LrHistory& plan = planned_lr();
    uint64_t s = static_cast<uint64_t>(std::max(0.0, std::round(p.position)));
    p.lr = plan.lr(s);
    warming = s > 0 && s < plan.steps() && plan.lr(s) > plan.lr(s - 1) * (1 + 1e-9);
  }
  points_.push_back(p);
  const size_t index = points_.size() - 1;
  MonitorPoint& q = points_.back();
  if (!std::isfinite(q.loss)) {
    q.status = PointStatus::kDiverged;
    flagged_ = true;
    warnings_.push_back({"diverged", r.line, q.step, q.tokens, "the loss is " + num(q.loss) + ": the run diverged", true});
    return {q};
  }
  if (!(q.position > 0) || seen_ < options_.skip || warming) {
    if (q.position > 0 && !warming) ++seen_;
    q.status = PointStatus::kSkipped;
    return {q};
  }
  ++seen_;
  if (!law_band_ && !calibration_.ok) {
    const double T = planned_steps();
    double end = 0;
    if (options_.calibrate_fraction > 0 && T > 0) end = options_.calibrate_fraction * T;
    else if (options_.calibrate_position > 0) end = options_.calibrate_position;
    if (end > 0 && q.position > end && pending_.size() >= static_cast<size_t>(kMinCurvePoints)) close_calibration();
    if (!calibration_.ok) {
      points_[index].status = PointStatus::kCalibrating;
      pending_.push_back(index);
      if (end <= 0 && options_.calibrate_points > 0 && pending_.size() >= static_cast<size_t>(options_.calibrate_points))
        close_calibration();
      update_final(points_[index]);
      return {points_[index]};
    }
  }
  judge(index);
  update_final(points_[index]);
  return {points_[index]};
}

const LrHistory& Monitor::planned_lr() const {
  if (lr_from_log_) {
    if (!plan_) return lr_;
    if (cache_steps_ != lr_.steps()) {
      cache_ = lr_.continued(*plan_);
      cache_steps_ = lr_.steps();
    }
    return cache_;
  }
  if (plan_) return *plan_;
  const uint64_t T = static_cast<uint64_t>(std::max(1.0, std::ceil(std::max(planned_steps(), last_position_ + 1))));
  if (cache_steps_ != T) {
    cache_ = LrHistory::constant(T);
    cache_steps_ = T;
  }
  return cache_;
}

ScheduleFitOptions Monitor::fit_options(double window_end) const {
  ScheduleFitOptions f = options_.curve;
  // The prior's unit: the drop a linear decay to zero over the last 20% of the run would give.
  // It depends only on the run's length (and λ), so it is built once per length, not per fit.
  double T = planned_steps();
  if (!(T > window_end)) T = window_end / 0.3;
  const uint64_t steps = static_cast<uint64_t>(std::max(5.0, std::round(T)));
  if (steps != s2_ref_steps_) {
    train::ScheduleConfig ref;
    ref.kind = train::ScheduleKind::kWsd;
    ref.peak_lr = 1;
    ref.total_steps = steps;
    ref.final_frac = 0;
    ref.cooldown_frac = 0.2;
    ref.cooldown_shape = train::CooldownShape::kLinear;
    s2_ref_ = LrHistory::from_schedule(ref, f.lambda).s2(static_cast<double>(steps));
    s2_ref_steps_ = steps;
  }
  f.s2_ref = s2_ref_;
  return f;
}

ScheduleFit Monitor::fit_points(const std::vector<size_t>& idx) const {
  const LrHistory& lr = planned_lr();
  std::vector<double> s1, s2, l;
  for (size_t i : idx) {
    s1.push_back(lr.s1(points_[i].position));
    s2.push_back(lr.s2(points_[i].position));
    l.push_back(points_[i].loss);
  }
  return fit_schedule_curve(s1, s2, l, fit_options(idx.empty() ? 0 : points_[idx.back()].position));
}

void Monitor::close_calibration() {
  // Evaluations before the lr first reached its peak are in the warmup, off any curve of the
  // stable run (seen only now when the log's first lr sample came after step 0).
  {
    const LrHistory& lr = planned_lr();
    std::vector<size_t> keep;
    for (size_t i : pending_) {
      const double pos = points_[i].position;
      if (lr.peak_step() > 0 && pos < static_cast<double>(lr.peak_step())) points_[i].status = PointStatus::kSkipped;
      else keep.push_back(i);
    }
    pending_ = keep;
  }
  if (pending_.size() < static_cast<size_t>(kMinCurvePoints)) return;
  if (!lr_from_log_ && !options_.schedule)
    note_once("the log states no learning rates and no --schedule was given: the curve assumes a constant lr, so a "
              "cooldown will look like an improvement");
  ScheduleFit f = fit_points(pending_);
  if (!f.ok) {
    note_once("calibration: " + f.message);
    return;
  }
  calibration_ = reference_ = f;
  calibration_count_ = static_cast<int>(pending_.size());
  fitted_n_ = pending_.size();
  // Can this curve tell a healthy run from a broken one? Its band one evaluation ahead.
  const LrHistory& lr = planned_lr();
  const double last = points_[pending_.back()].position, prev = points_[pending_[pending_.size() - 2]].position;
  const double next = last + std::max(last - prev, 1.0);
  CurvePrediction ahead = f.at(lr.s1(next), lr.s2(next), options_.level, false);
  const double half = std::isfinite(ahead.pi_hi) ? 0.5 * std::log(ahead.pi_hi / ahead.pi_lo) : INFINITY;
  calibration_usable_ = half <= options_.max_band;
  if (!calibration_usable_) {
    note_once("the early curve cannot predict the run with confidence: its " + num(100 * options_.level, 3) + "% band at " +
              (position_is_tokens_ ? "tokens " : "step ") + num(next, 10) + " is ±" +
              (std::isfinite(half) ? num(100 * (std::exp(half) - 1), 3) + "%" : std::string("∞")) + " (limit ±" +
              num(100 * (std::exp(options_.max_band) - 1), 3) + "%); later evaluations are not judged — calibrate on "
              "more of the run (--calibrate-fraction) or compare with a fitted law (--law)");
  }
  for (size_t i : pending_) {
    CurvePrediction c = f.at(lr.s1(points_[i].position), lr.s2(points_[i].position), options_.level, false);
    points_[i].predicted = c.value;
    points_[i].lo = c.pi_lo;
    points_[i].hi = c.pi_hi;
    points_[i].status = PointStatus::kCalibration;
  }
  pending_.clear();
}

void Monitor::judge(size_t index) {
  if (!law_band_ && calibration_usable_) refresh_reference(index);
  MonitorPoint& p = points_[index];
  if (!law_band_ && !calibration_usable_) {
    p.status = PointStatus::kUnjudged;
    return;
  }
  auto ref = law_band_ ? std::optional<Band>(law_band_->at(p.tokens)) : reference(p.position);
  if (!ref) {
    p.status = PointStatus::kUnjudged;
    return;
  }
  Band b = *ref;
  p.predicted = b.predicted;
  p.lo = b.lo;
  p.hi = b.hi;
  if (p.loss > b.hi) {
    p.status = PointStatus::kAbove;
    run_below_ = 0;
    p.outside_run = ++run_above_;
  } else if (p.loss < b.lo) {
    p.status = PointStatus::kBelow;
    run_above_ = 0;
    p.outside_run = ++run_below_;
  } else {
    p.status = PointStatus::kInside;
    run_above_ = run_below_ = 0;
  }
  if (p.outside_run == options_.patience) {
    // Worse than the curve is a run going wrong; better than it (a faster drop, a lucky stretch,
    // or eval data leaking into training) is reported but flags only with flag_below.
    const bool below = p.status == PointStatus::kBelow;
    const bool flags = !below || options_.flag_below;
    flagged_ = flagged_ || flags;
    const MonitorPoint& first = points_[points_.size() - static_cast<size_t>(options_.patience)];
    std::ostringstream m;
    m << (flags ? "off track: " : "ahead of the curve: ") << options_.patience << " consecutive evaluations "
      << (p.status == PointStatus::kAbove ? "above" : "below")
      << " the " << num(100 * options_.level, 3) << "% band";
    if (std::isfinite(first.step)) m << " from step " << num(first.step, 10);
    if (std::isfinite(first.tokens)) m << " (" << num(first.tokens) << " tokens)";
    m << "; loss " << num(p.loss) << " vs predicted " << num(p.predicted) << " [" << num(p.lo) << ", " << num(p.hi) << "], "
      << (p.loss >= p.predicted ? "+" : "") << num(100 * (p.loss / p.predicted - 1), 3) << "%";
    if (!flags) m << " (not flagged: --flag-below flags it)";
    warnings_.push_back({flags ? "off-track" : "ahead", p.line, p.step, p.tokens, m.str(), flags});
  }
}

std::vector<size_t> Monitor::usable_points(size_t end) const {
  std::vector<size_t> use;
  for (size_t i = 0; i < end; ++i)
    if (usable(points_[i].status)) use.push_back(i);
  return use;
}

void Monitor::refresh_reference(size_t index) {
  // The curve of every usable evaluation up to `patience` evaluations before this one: a run that
  // went wrong `patience` evaluations ago is judged against the healthy run's curve throughout
  // the excursion that flags it, while the reference otherwise follows the run (an error of the
  // early curve does not persist into a false alarm).
  std::vector<size_t> use = usable_points(index);
  const size_t lag = static_cast<size_t>(options_.patience - 1);
  if (use.size() <= lag) return;
  use.resize(use.size() - lag);
  const size_t n = use.size(), k = static_cast<size_t>(std::max(1, options_.refits));
  if (n == fitted_n_ || (n > 2 * k && n - fitted_n_ < n / k)) return;
  ScheduleFit f = fit_points(use);
  if (f.ok) reference_ = f;
  fitted_n_ = n;
}

void Monitor::update_final(MonitorPoint& p) {
  if (!options_.estimate_final || replaying_) return;
  const double T = planned_steps();
  if (!(T > 0) || p.position > T) return;
  const LrHistory& lr = planned_lr();
  // The curve of every usable evaluation so far.
  const std::vector<size_t> use = usable_points(points_.size());
  const size_t n = use.size(), k = static_cast<size_t>(std::max(1, options_.refits));
  if (n < static_cast<size_t>(kMinCurvePoints)) return;
  if (n > 2 * k && n % std::max<size_t>(1, n / k) != 0) return;
  const ScheduleFit f = fit_points(use);
  if (!f.ok) return;
  p.final.ok = true;
  p.final.step = T;
  p.final.tokens = tokens_at(T);
  p.final.points = f.points;
  p.final.loss = f.at(lr.s1(T), lr.s2(T), options_.level, false);
  if (!std::isfinite(p.final.loss.value)) p.final.ok = false;
}

std::vector<MonitorPoint> Monitor::finish() {
  if (!law_band_ && !calibration_.ok) {
    if (pending_.size() >= static_cast<size_t>(kMinCurvePoints)) {
      close_calibration();
    } else if (!points_.empty()) {
      note_once("only " + std::to_string(pending_.size()) + " evaluations to calibrate on (need " +
                std::to_string(kMinCurvePoints) + "): nothing was compared");
    }
  }
  return {};
}

std::optional<Band> Monitor::reference(double position) const {
  if (law_band_) {
    const double tokens = tokens_at(position);
    if (!(tokens > 0)) return std::nullopt;
    return law_band_->at(tokens);
  }
  if (!reference_.ok) return std::nullopt;
  const LrHistory& lr = planned_lr();
  CurvePrediction c = reference_.at(lr.s1(position), lr.s2(position), options_.level, false);
  if (!std::isfinite(c.value)) return std::nullopt;
  return Band{c.value, c.pi_lo, c.pi_hi};
}

double Monitor::tokens_at(double position) const {
  if (position_is_tokens_) return position;
  if (tokens_per_step_ > 0) return position * tokens_per_step_;
  // A log with its own token counts: interpolate between its evaluations (the ratio of the
  // nearest one beyond them).
  const MonitorPoint* lo = nullptr;
  const MonitorPoint* hi = nullptr;
  for (const auto& p : points_) {
    if (!std::isfinite(p.tokens) || !(p.position > 0)) continue;
    if (p.position <= position) lo = &p;
    if (p.position >= position && !hi) hi = &p;
  }
  if (lo && hi && hi->position > lo->position)
    return lo->tokens + (position - lo->position) / (hi->position - lo->position) * (hi->tokens - lo->tokens);
  const MonitorPoint* q = lo ? lo : hi;
  return q ? position * q->tokens / q->position : NAN;
}

std::optional<FinalEstimate> Monitor::final_estimate() const {
  for (auto it = points_.rbegin(); it != points_.rend(); ++it)
    if (it->final.ok) return it->final;
  return std::nullopt;
}

std::optional<Band> Monitor::law_final() const {
  if (!law_band_ || !(options_.final_tokens > 0)) return std::nullopt;
  return law_band_->at(options_.final_tokens);
}

int Monitor::evaluated() const {
  int n = 0;
  for (const auto& p : points_) n += judged(p.status);
  return n;
}

Metric resolve_metric(const std::vector<LogRecord>& records, Metric requested) {
  if (requested != Metric::kAuto) return requested;
  bool train = false;
  for (const auto& r : records) {
    if (r.eval_loss) return Metric::kEval;
    train = train || r.train_loss.has_value();
  }
  return train ? Metric::kTrain : Metric::kAuto;
}

int count_points(const std::vector<LogRecord>& records, Metric metric) {
  int n = 0;
  for (const auto& r : records) n += metric == Metric::kEval ? r.eval_loss.has_value() : r.train_loss.has_value();
  return n;
}

nlohmann::json to_json(const Monitor& m, const std::string& format) {
  using nlohmann::json;
  auto n = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  auto pred = [&](const CurvePrediction& c) {
    return json{{"value", n(c.value)}, {"ci", json::array({n(c.ci_lo), n(c.ci_hi)})}, {"pi", json::array({n(c.pi_lo), n(c.pi_hi)})}};
  };
  const MonitorOptions& o = m.options();
  json j;
  j["schema"] = "scalinglab.monitor/2";
  j["source"] = o.source;
  j["format"] = format;
  j["metric"] = metric_name(m.metric());
  j["mode"] = m.law_mode() ? "law" : "curve";
  j["position"] = m.position_is_tokens() ? "tokens" : "step";
  j["schedule"] = {{"lr", m.lr_from_log() ? (o.schedule ? "log, then the planned schedule" : "log")
                          : o.schedule ? "planned schedule" : "assumed constant"},
                   {"planned_steps", n(m.planned_steps())},
                   {"tokens_per_step", n(m.tokens_per_step())},
                   {"anneal_lambda", o.curve.lambda},
                   {"anneal_memory_steps", 1 / (1 - o.curve.lambda)}};
  j["options"] = {{"patience", o.patience},
                  {"level", o.level},
                  {"skip", o.skip},
                  {"params", n(o.params)},
                  {"final_tokens", n(o.final_tokens)},
                  {"total_steps", n(o.total_steps)},
                  {"calibrate_points", o.calibrate_points},
                  {"calibrate_fraction", n(o.calibrate_fraction)},
                  {"calibrate_position", n(o.calibrate_position)},
                  {"max_band", o.max_band},
                  {"anneal_prior", {{"drop", o.curve.prior.drop}, {"sd", o.curve.prior.drop_sd}}},
                  {"tokens_per_step", n(o.tokens_per_step)}};
  if (m.law_mode()) {
    j["reference"] = {{"law", o.law->model->name()}, {"formula", o.law->model->formula()}, {"params", o.params},
                      {"bootstrap_replicates", o.law->bootstrap_theta.size()}, {"residuals", o.law->residuals.size()}};
  } else if (m.calibration().ok) {
    const ScheduleFit& c = m.calibration();
    j["reference"] = {{"law", "lr-annealing"},
                      {"formula", "L = L0 + A*S1^(-alpha) - C*S2"},
                      {"L0", c.L0},
                      {"A", c.A},
                      {"alpha", c.alpha},
                      {"C", c.C},
                      {"anneal_from_data", c.anneal_identified},
                      {"reference_anneal_drop", n(c.drop_ref)},
                      {"sigma_rel", c.sigma},
                      {"huber_delta", c.delta},
                      {"points", c.points},
                      {"dof", c.dof},
                      {"usable", m.calibrated()}};
  } else {
    j["reference"] = nullptr;
  }
  json pts = json::array();
  for (const auto& p : m.points()) {
    json e = {{"line", p.line},
              {"step", n(p.step)},
              {"tokens", n(p.tokens)},
              {"lr", n(p.lr)},
              {"loss", n(p.loss)},
              {"predicted", n(p.predicted)},
              {"band", json::array({n(p.lo), n(p.hi)})},
              {"status", status_name(p.status)},
              {"outside_run", p.outside_run}};
    if (p.offset >= 0) e["offset"] = p.offset;
    if (p.final.ok) e["final"] = pred(p.final.loss);
    pts.push_back(e);
  }
  j["points"] = pts;
  json rs = json::array();
  for (const auto& r : m.restarts())
    rs.push_back({{"line", r.line}, {"from", n(r.from)}, {"to", n(r.to)}, {"points_replaced", r.points_replaced},
                  {"records_replaced", r.records_replaced}});
  j["restarts"] = rs;
  json w = json::array();
  for (const auto& x : m.warnings())
    w.push_back({{"kind", x.kind}, {"line", x.line}, {"step", n(x.step)}, {"tokens", n(x.tokens)},
                 {"message", x.message}, {"flags", x.flags}});
  j["warnings"] = w;
  j["notes"] = m.notes();
  j["evaluated"] = m.evaluated();
  j["flagged"] = m.flagged();
  if (auto f = m.final_estimate()) {
    json fe = pred(f->loss);
    fe["step"] = n(f->step);
    fe["tokens"] = n(f->tokens);
    fe["points"] = f->points;
    j["final_estimate"] = fe;
  } else {
    j["final_estimate"] = nullptr;
  }
  if (auto lf = m.law_final()) j["law_final"] = {{"tokens", o.final_tokens}, {"value", n(lf->predicted)}, {"pi", json::array({n(lf->lo), n(lf->hi)})}};
  else j["law_final"] = nullptr;
  return j;
}

}  // namespace scalinglab::monitor
