#include "scalinglab/monitor/monitor.h"

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
bool usable(PointStatus s) { return judged(s) || s == PointStatus::kCalibrating || s == PointStatus::kCalibration; }

}  // namespace

Monitor::Monitor(MonitorOptions options) : options_(std::move(options)), metric_(options_.metric) {
  if (!(options_.level > 0 && options_.level < 1)) throw std::invalid_argument("the band level must be in (0, 1)");
  if (options_.patience < 1) throw std::invalid_argument("patience must be at least 1");
  if (options_.skip < 0) throw std::invalid_argument("skip must be ≥ 0");
  if (options_.law) {
    law_band_ = std::make_unique<LawBand>(options_.law, options_.params, options_.level);
  } else if (options_.calibrate_points <= 0 && !(options_.calibrate_tokens > 0)) {
    throw std::invalid_argument("curve mode needs a calibration window (calibrate_points or calibrate_tokens)");
  }
  tokens_per_step_ = options_.tokens_per_step;
}

void Monitor::reset() {
  points_.clear();
  warnings_.clear();
  pending_.clear();
  calibration_ = CurveFit{};
  calibration_count_ = 0;
  tokens_per_step_ = options_.tokens_per_step;
  last_tokens_ = -INFINITY;
  seen_ = 0;
  run_above_ = run_below_ = 0;
  flagged_ = false;
  final_theta_.clear();
  ignored_ = 0;
}

std::vector<MonitorPoint> Monitor::add_all(const std::vector<LogRecord>& records) {
  std::vector<MonitorPoint> out;
  for (const auto& r : records) {
    auto p = add(r);
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::vector<MonitorPoint> Monitor::add(const LogRecord& r) {
  if (options_.metric == Metric::kAuto) {
    if (metric_ == Metric::kAuto) {
      if (r.eval_loss) metric_ = Metric::kEval;
      else if (r.train_loss) metric_ = Metric::kTrain, metric_provisional_ = true;
    } else if (metric_provisional_ && r.eval_loss) {
      // Auto prefers the eval loss; the log only now shows it has one: start over on it.
      std::vector<LogRecord> replay = std::move(records_);
      replay.push_back(r);
      records_.clear();
      metric_ = Metric::kEval;
      metric_provisional_ = false;
      notes_.push_back("the log has an eval loss from line " + std::to_string(r.line) +
                       " on: monitoring it instead of the train loss (--metric train to keep the train loss)");
      reset();
      std::vector<MonitorPoint> out;
      for (const auto& x : replay) {
        auto p = process(x);
        out.insert(out.end(), p.begin(), p.end());
      }
      return out;
    }
    if (metric_provisional_) records_.push_back(r);
  }
  return process(r);
}

std::vector<MonitorPoint> Monitor::process(const LogRecord& r) {
  if (r.tokens_per_step && !(options_.tokens_per_step > 0)) tokens_per_step_ = *r.tokens_per_step;
  std::optional<double> loss = metric_ == Metric::kEval ? r.eval_loss : metric_ == Metric::kTrain ? r.train_loss : std::nullopt;
  if (!loss) return {};
  auto fail = [&](const std::string& what) {
    if (r.offset >= 0)
      return io::InputError(options_.source, 0, "", "record " + std::to_string(r.line) + " at byte offset " +
                                                        std::to_string(r.offset) + ": " + what);
    return io::InputError(options_.source, r.line, "", what);
  };
  MonitorPoint p;
  p.line = r.line;
  p.offset = r.offset;
  p.step = r.step ? *r.step : NAN;
  p.loss = *loss;
  if (r.tokens) p.tokens = *r.tokens;
  else if (tokens_per_step_ > 0 && r.step) p.tokens = *r.step * tokens_per_step_;
  else
    throw fail("no token count for this evaluation: the log has no tokens (column, key or header line); give --tokens-per-step");
  if (!std::isfinite(p.tokens) || p.tokens < 0) throw fail("tokens must be a non-negative number, got " + num(p.tokens));
  if (std::isfinite(p.loss) && p.loss <= 0) throw fail("the loss must be positive, got " + num(p.loss));
  if (!(p.tokens > last_tokens_)) {
    if (++ignored_ <= 5)
      warnings_.push_back({"ignored", r.line, p.step, p.tokens,
                           "an evaluation at " + num(p.tokens) + " tokens does not come after the previous one at " +
                               num(last_tokens_) + " (a restarted run?); ignored",
                           false});
    return {};
  }
  last_tokens_ = p.tokens;
  std::vector<MonitorPoint> out;
  const size_t index = points_.size();
  points_.push_back(p);
  MonitorPoint& q = points_.back();
  if (!std::isfinite(q.loss)) {
    q.status = PointStatus::kDiverged;
    flagged_ = true;
    warnings_.push_back({"diverged", r.line, q.step, q.tokens, "the loss is " + num(q.loss) + ": the run diverged", true});
    return {q};
  }
  if (!(q.tokens > 0) || seen_ < options_.skip) {
    if (q.tokens > 0) ++seen_;
    q.status = PointStatus::kSkipped;
    return {q};
  }
  ++seen_;
  if (!law_band_ && !calibration_.ok) {
    bool beyond = options_.calibrate_tokens > 0 && q.tokens > options_.calibrate_tokens &&
                  pending_.size() >= static_cast<size_t>(kMinCurvePoints);
    if (beyond) close_calibration(out);
    if (!calibration_.ok) {
      q.status = PointStatus::kCalibrating;
      pending_.push_back(index);
      if (options_.calibrate_points > 0 && pending_.size() >= static_cast<size_t>(options_.calibrate_points)) close_calibration(out);
      update_final(points_[index]);
      return {points_[index]};
    }
  }
  judge(q);
  update_final(q);
  return {q};
}

void Monitor::close_calibration(std::vector<MonitorPoint>&) {
  if (pending_.size() < static_cast<size_t>(kMinCurvePoints)) return;
  std::vector<double> t, l;
  for (size_t i : pending_) {
    t.push_back(points_[i].tokens);
    l.push_back(points_[i].loss);
  }
  CurveFit f = fit_learning_curve(t, l);
  if (!f.ok) {
    if (notes_.empty() || notes_.back() != f.message) notes_.push_back("calibration: " + f.message);
    return;
  }
  calibration_ = f;
  calibration_count_ = static_cast<int>(pending_.size());
  for (size_t i : pending_) {
    CurvePrediction c = calibration_.at(points_[i].tokens, options_.level);
    points_[i].predicted = c.value;
    points_[i].lo = c.pi_lo;
    points_[i].hi = c.pi_hi;
    points_[i].status = PointStatus::kCalibration;
  }
  pending_.clear();
}

void Monitor::judge(MonitorPoint& p) {
  Band b = *reference(p.tokens);
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
    flagged_ = true;
    const MonitorPoint& first = points_[points_.size() - static_cast<size_t>(options_.patience)];
    std::ostringstream m;
    m << "off track: " << options_.patience << " consecutive evaluations " << (p.status == PointStatus::kAbove ? "above" : "below")
      << " the " << num(100 * options_.level, 3) << "% band";
    if (std::isfinite(first.step)) m << " from step " << num(first.step, 10);
    m << " (" << num(first.tokens) << " tokens); loss " << num(p.loss) << " vs predicted " << num(p.predicted) << " ["
      << num(p.lo) << ", " << num(p.hi) << "], " << (p.loss >= p.predicted ? "+" : "") << num(100 * (p.loss / p.predicted - 1), 3) << "%";
    warnings_.push_back({"off-track", p.line, p.step, p.tokens, m.str(), true});
  }
}

void Monitor::update_final(MonitorPoint& p) {
  if (!(options_.final_tokens > 0) || !options_.estimate_final) return;
  std::vector<double> t, l;
  for (const auto& x : points_)
    if (usable(x.status)) {
      t.push_back(x.tokens);
      l.push_back(x.loss);
    }
  if (t.size() < static_cast<size_t>(kMinCurvePoints)) return;
  CurveFit f = fit_learning_curve(t, l, final_theta_.empty() ? nullptr : &final_theta_);
  if (!f.ok) return;
  final_theta_ = f.theta;
  p.final.ok = true;
  p.final.tokens = options_.final_tokens;
  p.final.points = f.points;
  p.final.loss = f.at(options_.final_tokens, options_.level, false);
}

std::vector<MonitorPoint> Monitor::finish() {
  std::vector<MonitorPoint> out;
  if (!law_band_ && !calibration_.ok) {
    if (pending_.size() >= static_cast<size_t>(kMinCurvePoints)) close_calibration(out);
    else if (!points_.empty())
      notes_.push_back("only " + std::to_string(pending_.size()) + " evaluations to calibrate on (need " +
                       std::to_string(kMinCurvePoints) + "): nothing was compared");
  }
  return out;
}

std::optional<Band> Monitor::reference(double tokens) const {
  if (law_band_) return law_band_->at(tokens);
  if (!calibration_.ok) return std::nullopt;
  CurvePrediction c = calibration_.at(tokens, options_.level);
  return Band{c.value, c.pi_lo, c.pi_hi};
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
  j["schema"] = "scalinglab.monitor/1";
  j["source"] = o.source;
  j["format"] = format;
  j["metric"] = metric_name(m.metric());
  j["mode"] = m.law_mode() ? "law" : "curve";
  j["options"] = {{"patience", o.patience},   {"level", o.level},           {"skip", o.skip},
                  {"params", n(o.params)},     {"final_tokens", n(o.final_tokens)},
                  {"calibrate_points", o.calibrate_points}, {"calibrate_tokens", n(o.calibrate_tokens)},
                  {"tokens_per_step", n(o.tokens_per_step)}};
  if (m.law_mode()) {
    j["reference"] = {{"law", o.law->model->name()}, {"formula", o.law->model->formula()}, {"params", o.params},
                      {"bootstrap_replicates", o.law->bootstrap_theta.size()}, {"residuals", o.law->residuals.size()}};
  } else if (m.calibrated()) {
    const CurveFit& c = m.calibration();
    j["reference"] = {{"law", "power"},       {"formula", "L = E + B*D^(-beta)"},
                      {"E", c.E},             {"B", c.B},
                      {"beta", c.beta},       {"sigma_log", c.sigma},
                      {"huber_delta", c.delta}, {"points", c.points},
                      {"dof", c.dof}};
  } else {
    j["reference"] = nullptr;
  }
  json pts = json::array();
  for (const auto& p : m.points()) {
    json e = {{"line", p.line},          {"step", n(p.step)}, {"tokens", n(p.tokens)},
              {"loss", n(p.loss)},       {"predicted", n(p.predicted)},
              {"band", json::array({n(p.lo), n(p.hi)})}, {"status", status_name(p.status)},
              {"outside_run", p.outside_run}};
    if (p.offset >= 0) e["offset"] = p.offset;
    if (p.final.ok) e["final"] = pred(p.final.loss);
    pts.push_back(e);
  }
  j["points"] = pts;
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
    fe["tokens"] = f->tokens;
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
