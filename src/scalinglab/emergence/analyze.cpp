#include "scalinglab/emergence/analyze.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <stdexcept>

#include "scalinglab/fit/estimate.h"
#include "scalinglab/util/progress.h"

namespace scalinglab::emergence {

void validate(const AnalyzeOptions& o) {
  auto bad = [](const std::string& f, const std::string& what) { throw std::invalid_argument(f + ": " + what); };
  if (o.bootstrap < 0) bad("bootstrap", "must be >= 0");
  if (o.col_model.empty()) bad("col_model", "must name a column");
  if (!(o.sharp_threshold > 0)) bad("sharp_threshold", "must be > 0");
  if (!(o.flat_tolerance >= 0)) bad("flat_tolerance", "must be >= 0");
  if (!(o.mirage_tolerance >= 0)) bad("mirage_tolerance", "must be >= 0");
  if (!(o.forecast_tolerance >= 0)) bad("forecast_tolerance", "must be >= 0");
  for (double v : o.predict_at)
    if (!(v > 0) || !std::isfinite(v)) bad("predict_at", "scales must be positive and finite");
  if (o.threads < 0) bad("threads", "must be >= 0");
}

namespace {

std::string g3(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

bool is_exact_like(const Curve& c) { return c.metric == "exact_match" || c.metric == "accuracy"; }

int severity(const std::string& v) {
  if (v == kVerdictUnexplained) return 4;
  if (v == kVerdictUntested) return 3;
  if (v == kVerdictExplained) return 2;
  if (v == kVerdictSmooth) return 1;
  return 0;
}

// Per-curve statistics that need nothing from the rest of its group.
void analyse_curve(CurveAnalysis& a, const AnalyzeOptions& o, std::uint64_t seed) {
  const Curve& c = a.curve;
  const std::vector<double> y = c.values(), lx = c.log10_xs(), x = c.xs();
  a.bt = breakthrough(y, c.info.higher_is_better);
  const SharpnessSeries s = sharpness_series(c.info, y);
  a.sharpness = sharpness(breakthrough(s.y, s.higher_is_better));
  a.sharpness_basis = s.basis;
  a.midpoint_log10_x = midpoint_crossing(lx, y);

  // Flat: the change is within the noise or a small fraction of the metric's scale.
  double scale = c.info.hi - c.info.lo;
  if (!std::isfinite(scale)) {
    scale = 0;
    for (double v : y) scale = std::max(scale, std::fabs(v));
  }
  const size_t imax = static_cast<size_t>(std::max_element(y.begin(), y.end()) - y.begin());
  const size_t imin = static_cast<size_t>(std::min_element(y.begin(), y.end()) - y.begin());
  a.flat_threshold = std::max(o.flat_tolerance * scale, 2 * std::hypot(c.se(imax), c.se(imin)));
  if (std::fabs(a.bt.I) <= a.flat_threshold) a.shape = "flat";
  else if (a.sharpness >= o.sharp_threshold) a.shape = "sharp";
  else a.shape = "smooth";

  LogisticOptions lo;
  lo.lo = c.info.lo, lo.hi = c.info.hi;
  lo.bootstrap = o.bootstrap;
  lo.bootstrap_kind = o.bootstrap_kind;
  lo.seed = seed;
  a.logistic = fit_logistic(lx, y, lo);

  if (c.info.kind == MetricKind::kContinuous && c.info.loss != LossTransform::kNone) {
    std::vector<double> q;
    for (double v : y) q.push_back(loss_quantity(c.info, v));
    a.power_law = fit_loss_power_law(x, q, o.power_law_offset);
    a.power_law_quantity = loss_quantity_name(c.info);
  }
}

// Runs body(i) for i in [0, n) in parallel; rethrows the first exception; stops on Ctrl-C.
template <class F>
void parallel_for(size_t n, int threads, F&& body) {
  std::exception_ptr error;
  const int t = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(t)
  for (long i = 0; i < static_cast<long>(n); ++i) {
    if (error || util::interrupted()) continue;
    try {
      body(static_cast<size_t>(i));
    } catch (...) {
#pragma omp critical
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  if (util::interrupted()) throw std::runtime_error("interrupted");
}

// The group's partner curve of `metric` for a curve with answer length L: same L, else one
// without L, else the first.
int partner(const std::vector<CurveAnalysis>& curves, const std::vector<size_t>& members, const std::string& metric, int L) {
  int same = -1, none = -1, any = -1;
  for (size_t i : members) {
    const Curve& c = curves[i].curve;
    if (c.metric != metric) continue;
    if (any < 0) any = static_cast<int>(i);
    if (c.answer_len == L && same < 0) same = static_cast<int>(i);
    if (c.answer_len == 0 && none < 0) none = static_cast<int>(i);
  }
  return same >= 0 ? same : none >= 0 ? none : any;
}

}  // namespace

AnalysisResult analyze_table(const io::Table& table, const AnalyzeOptions& options) {
  validate(options);
  ReadOptions r;
  r.x = options.x;
  r.col_model = options.col_model;
  return analyze_results(read_results(table, r), options);
}

AnalysisResult analyze_results(ResultsTable rt, const AnalyzeOptions& o) {
  validate(o);
  AnalysisResult res;
  res.source = rt.source;
  res.x_column = rt.x_column;
  res.options = o;
  res.notes = std::move(rt.notes);
  res.warnings = std::move(rt.warnings);
  res.curves.resize(rt.curves.size());
  for (size_t i = 0; i < rt.curves.size(); ++i) res.curves[i].curve = std::move(rt.curves[i]);
  auto& curves = res.curves;

  parallel_for(curves.size(), o.threads,
               [&](size_t i) { analyse_curve(curves[i], o, fit::resample_seed(o.seed, static_cast<uint64_t>(i))); });

  // Groups in order of first appearance.
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < curves.size(); ++i) {
    const std::string g = curves[i].curve.group();
    auto [it, fresh] = groups.emplace(g, std::vector<size_t>{});
    if (fresh) group_order.push_back(g);
    it->second.push_back(i);
  }

  // The jump each curve's forecast lead is measured against: a discrete curve's own midpoint;
  // for the others the midpoint of the group's sharpest discrete curve.
  std::vector<double> jump(curves.size(), NAN);
  for (const auto& g : group_order) {
    const auto& members = groups[g];
    double best = -1, group_jump = NAN;
    for (size_t i : members)
      if (curves[i].curve.info.kind == MetricKind::kDiscrete && std::isfinite(curves[i].midpoint_log10_x) &&
          curves[i].shape != "flat" && curves[i].sharpness > best)
        best = curves[i].sharpness, group_jump = curves[i].midpoint_log10_x;
    for (size_t i : members)
      jump[i] = curves[i].curve.info.kind == MetricKind::kDiscrete ? (curves[i].shape == "flat" ? NAN : curves[i].midpoint_log10_x)
                                                                   : group_jump;
  }
  ForecastOptions fo;
  fo.tolerance = o.forecast_tolerance;
  fo.power_law_offset = o.power_law_offset;
  fo.bootstrap = o.bootstrap;
  fo.seed = o.seed;
  fo.predict_at = o.predict_at;
  parallel_for(curves.size(), o.threads, [&](size_t i) { curves[i].forecast = forecast_curve(curves[i].curve, jump[i], fo); });

  // Mirage tests and verdicts.
  MirageOptions mo;
  mo.tolerance = o.mirage_tolerance;
  for (const auto& g : group_order) {
    const auto& members = groups[g];
    for (size_t i : members) {
      CurveAnalysis& a = curves[i];
      const Curve& c = a.curve;
      const bool discrete = c.info.kind == MetricKind::kDiscrete;
      int source = -1;  // the per-token curve p comes from
      if (discrete && is_exact_like(c)) {
        source = partner(curves, members, "token_accuracy", c.answer_len);
        if (source < 0) source = partner(curves, members, "loglik_per_token", c.answer_len);
        const int L = c.answer_len > 0 ? c.answer_len : source >= 0 ? curves[static_cast<size_t>(source)].curve.answer_len : 0;
        if (source >= 0 && L > 0) {
          const int e = partner(curves, members, "edit_distance", c.answer_len);
          res.mirage.push_back(mirage_test(c, curves[static_cast<size_t>(source)].curve,
                                           e >= 0 ? &curves[static_cast<size_t>(e)].curve : nullptr, L, mo));
          a.mirage = static_cast<int>(res.mirage.size() - 1);
        }
        if (a.mirage < 0 && a.shape == "sharp")
          a.reason = source < 0 ? "no token_accuracy or loglik_per_token in the group" : "no answer_len: p^L cannot be predicted";
      }
      if (a.shape == "flat") {
        a.verdict = kVerdictFlat;
        a.reason = "change " + g3(a.bt.I) + " within the flat threshold " + g3(a.flat_threshold);
      } else if (a.shape == "smooth") {
        a.verdict = kVerdictSmooth;
        a.reason = "sharpness " + g3(a.sharpness) + " below " + g3(o.sharp_threshold);
      } else if (!discrete) {
        a.verdict = kVerdictUnexplained;
        a.reason = "sharpness " + g3(a.sharpness) + ": a continuous metric jumps, not a metric artefact";
      } else if (a.mirage < 0) {
        a.verdict = kVerdictUntested;
        if (a.reason.empty()) a.reason = "no per-token metric to test the mirage hypothesis against";
      } else {
        const MirageTest& m = res.mirage[static_cast<size_t>(a.mirage)];
        const bool source_sharp = curves[static_cast<size_t>(source)].shape == "sharp";
        if (m.exact.size() < 3) {
          a.verdict = kVerdictUntested;
          a.reason = m.note;
        } else if (m.tracks && !source_sharp) {
          a.verdict = kVerdictExplained;
          a.reason = "sharpness " + g3(a.sharpness) + "; p^L from " + m.source_metric + " (L = " + std::to_string(m.answer_len) +
                     ") tracks it within " + g3(m.max_abs_error) + ", and " + m.source_metric + " is not sharp";
        } else {
          a.verdict = kVerdictUnexplained;
          a.reason = "sharpness " + g3(a.sharpness) + "; " +
                     (source_sharp ? m.source_metric + " itself is sharp" : "p^L does not track it: " + m.note);
        }
      }
    }
    // The task's verdict.
    TaskVerdict t;
    const Curve& first = curves[members.front()].curve;
    t.group = first.group_label();
    t.task = first.task;
    for (const auto& kv : first.identity)
      if (kv.first != "answer_len") t.identity.push_back(kv);
    const bool any_discrete = std::any_of(members.begin(), members.end(),
                                          [&](size_t i) { return curves[i].curve.info.kind == MetricKind::kDiscrete; });
    int best = -1;
    for (size_t i : members) {
      if (any_discrete && curves[i].curve.info.kind != MetricKind::kDiscrete) continue;
      const int s = severity(curves[i].verdict);
      if (s > best) best = s, t.verdict = curves[i].verdict, t.decided_by = curves[i].curve.label(), t.reason = curves[i].reason;
    }
    res.verdicts.push_back(std::move(t));
  }

  // Two-step forecasts: the group's task-loss curve against each discrete curve.
  std::vector<std::pair<size_t, size_t>> pairs;
  for (const auto& g : group_order) {
    const auto& members = groups[g];
    int loss = partner(curves, members, "loglik_per_token", 0);
    for (const char* m : {"nll", "task_loss", "cross_entropy"})
      if (loss < 0) loss = partner(curves, members, m, 0);
    if (loss < 0) continue;
    for (size_t i : members)
      if (curves[i].curve.info.kind == MetricKind::kDiscrete) pairs.emplace_back(static_cast<size_t>(loss), i);
  }
  res.two_step.resize(pairs.size());
  parallel_for(pairs.size(), o.threads, [&](size_t k) {
    ForecastOptions f = fo;
    f.seed = fit::resample_seed(o.seed ^ 0x2570u, static_cast<uint64_t>(k));
    res.two_step[k] = two_step_forecast(curves[pairs[k].first].curve, curves[pairs[k].second].curve, f);
  });
  return res;
}

// ---- JSON ------------------------------------------------------------------------------

namespace {

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json identity_json(const std::vector<std::pair<std::string, std::string>>& id) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : id) j[k] = v;
  return j;
}

nlohmann::json logistic_json(const LogisticFit& f) {
  return {{"fitted", f.fitted},
          {"floor", num(f.p.floor)},
          {"ceiling", num(f.p.ceiling)},
          {"x0", f.fitted ? num(f.p.x0) : nlohmann::json(nullptr)},
          {"k", f.fitted ? num(f.p.k) : nlohmann::json(nullptr)},
          {"x0_ci95", nlohmann::json::array({num(f.x0_lo), num(f.x0_hi)})},
          {"rise_width_log10", f.fitted ? num(f.rise_width()) : nlohmann::json(nullptr)},
          {"rmse", num(f.rmse)},
          {"step", f.k_at_max},
          {"x0_inside", f.x0_inside},
          {"bootstrap_used", f.bootstrap_used},
          {"note", f.note}};
}

nlohmann::json power_law_json(const LossPowerLaw& p, const std::string& quantity) {
  if (quantity.empty()) return nullptr;
  return {{"fitted", p.fitted},      {"quantity", quantity},   {"a", num(p.a)},
          {"b", num(p.b)},           {"offset", num(p.offset)}, {"unit_scale", num(p.unit_scale())},
          {"r2_log", num(p.r2)},     {"note", p.note}};
}

nlohmann::json forecast_json(const CurveForecast& f) {
  nlohmann::json held = nlohmann::json::array();
  for (const auto& p : f.held_out)
    held.push_back({{"model", p.model}, {"x", p.x}, {"measured", p.measured}, {"predicted", num(p.predicted)},
                    {"tolerance", num(p.tolerance)}, {"within", p.within}});
  return {{"method", f.method},
          {"fit_points", f.fit_points},
          {"held_out", held},
          {"mean_abs_error", num(f.mean_abs_error)},
          {"max_abs_error", num(f.max_abs_error)},
          {"all_within", f.all_within},
          {"jump_log10_x", num(f.jump_log10_x)},
          {"pre_jump", f.pre_jump},
          {"post_jump", f.post_jump},
          {"min_prefix", f.min_prefix > 0 ? nlohmann::json(f.min_prefix) : nlohmann::json(nullptr)},
          {"lead_scales", f.lead_scales >= 0 ? nlohmann::json(f.lead_scales) : nlohmann::json(nullptr)},
          {"note", f.note}};
}

nlohmann::json mirage_points(const std::vector<MiragePoint>& pts) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& q : pts)
    a.push_back({{"model", q.model}, {"x", q.x}, {"p", num(q.p)}, {"measured", num(q.measured)},
                 {"predicted", num(q.predicted)}, {"sigma", num(q.sigma)}, {"within", q.within}});
  return a;
}

nlohmann::json two_step_point(const TwoStepPoint& p) {
  nlohmann::json j = {{"x", p.x},
                      {"loss_predicted", num(p.loss_predicted)},
                      {"accuracy_predicted", num(p.accuracy_predicted)},
                      {"accuracy_ci95", nlohmann::json::array({num(p.accuracy_lo), num(p.accuracy_hi)})}};
  if (!p.model.empty()) {
    j["model"] = p.model;
    j["loss_measured"] = num(p.loss_measured);
    j["accuracy_measured"] = num(p.accuracy_measured);
    j["accuracy_from_measured_loss"] = num(p.accuracy_from_measured_loss);
    j["covered"] = p.covered;
  }
  return j;
}

}  // namespace

nlohmann::json to_json(const AnalysisResult& r) {
  const AnalyzeOptions& o = r.options;
  nlohmann::json j;
  j["schema"] = "scalinglab.emergence.analysis/1";
  j["source"] = r.source;
  j["x"] = r.x_column;
  j["options"] = {{"bootstrap", o.bootstrap},
                  {"bootstrap_kind", to_string(o.bootstrap_kind)},
                  {"seed", o.seed},
                  {"sharp_threshold", o.sharp_threshold},
                  {"flat_tolerance", o.flat_tolerance},
                  {"mirage_tolerance", o.mirage_tolerance},
                  {"forecast_tolerance", o.forecast_tolerance},
                  {"power_law_offset", o.power_law_offset}};
  nlohmann::json curves = nlohmann::json::array(), forecasts = nlohmann::json::array();
  for (size_t i = 0; i < r.curves.size(); ++i) {
    const CurveAnalysis& a = r.curves[i];
    const Curve& c = a.curve;
    nlohmann::json pts = nlohmann::json::array();
    for (size_t k = 0; k < c.points.size(); ++k) {
      const CurvePoint& p = c.points[k];
      pts.push_back({{"model", p.model}, {"x", p.x}, {"log10_x", std::log10(p.x)}, {"value", p.value},
                     {"stderr", num(p.stderr)}, {"n_examples", num(p.n_examples)}, {"se", num(c.se(k))},
                     {"line", p.line}});
    }
    nlohmann::json cj = {{"task", c.task},
                         {"metric", c.metric},
                         {"identity", identity_json(c.identity)},
                         {"group", c.group_label()},
                         {"label", c.label()},
                         {"kind", to_string(c.info.kind)},
                         {"higher_is_better", c.info.higher_is_better},
                         {"answer_len", c.answer_len > 0 ? nlohmann::json(c.answer_len) : nlohmann::json(nullptr)},
                         {"from_perplexity", c.from_perplexity},
                         {"x", r.x_column},
                         {"points", pts},
                         {"I", num(a.bt.I)},
                         {"breakthroughness", num(a.bt.B)},
                         {"linearity", num(a.bt.L)},
                         {"sharpness", num(a.sharpness)},
                         {"sharpness_basis", a.sharpness_basis},
                         {"shape", a.shape},
                         {"flat_threshold", num(a.flat_threshold)},
                         {"midpoint_log10_x", num(a.midpoint_log10_x)},
                         {"logistic", logistic_json(a.logistic)},
                         {"power_law", power_law_json(a.power_law, a.power_law_quantity)},
                         {"mirage", a.mirage >= 0 ? nlohmann::json(a.mirage) : nlohmann::json(nullptr)},
                         {"verdict", a.verdict},
                         {"reason", a.reason}};
    if (std::isinf(a.bt.B)) cj["breakthroughness_inf"] = a.bt.B > 0 ? 1 : -1;
    curves.push_back(std::move(cj));
    nlohmann::json fj = forecast_json(a.forecast);
    fj["curve"] = i;
    fj["label"] = c.label();
    forecasts.push_back(std::move(fj));
  }
  j["curves"] = curves;
  nlohmann::json verdicts = nlohmann::json::array();
  for (const auto& t : r.verdicts)
    verdicts.push_back({{"group", t.group}, {"task", t.task}, {"identity", identity_json(t.identity)},
                        {"verdict", t.verdict}, {"decided_by", t.decided_by}, {"reason", t.reason}});
  j["verdicts"] = verdicts;
  j["forecasts"] = forecasts;
  nlohmann::json mirage = nlohmann::json::array();
  for (const auto& m : r.mirage)
    mirage.push_back({{"group", m.group},
                      {"curve", m.exact_label},
                      {"source_metric", m.source_metric},
                      {"answer_len", m.answer_len},
                      {"tolerance", m.tolerance},
                      {"tracks", m.tracks},
                      {"max_abs_error", num(m.max_abs_error)},
                      {"rmse", num(m.rmse)},
                      {"predicted_breakthroughness", num(m.predicted.B)},
                      {"predicted_midpoint_log10_x", num(m.predicted_midpoint_log10_x)},
                      {"measured_midpoint_log10_x", num(m.measured_midpoint_log10_x)},
                      {"exact_match", mirage_points(m.exact)},
                      {"edit_distance", mirage_points(m.edit)},
                      {"edit_max_abs_error", num(m.edit_max_abs_error)},
                      {"note", m.note}});
  j["mirage"] = mirage;
  nlohmann::json two = nlohmann::json::array();
  for (const auto& t : r.two_step) {
    nlohmann::json held = nlohmann::json::array(), pred = nlohmann::json::array();
    for (const auto& p : t.held_out) held.push_back(two_step_point(p));
    for (const auto& p : t.predictions) pred.push_back(two_step_point(p));
    two.push_back({{"group", t.group},
                   {"loss_curve", t.loss_label},
                   {"accuracy_curve", t.accuracy_label},
                   {"ok", t.ok},
                   {"models", t.models},
                   {"fit_points", t.fit_points},
                   {"step1", power_law_json(t.step1, "task loss")},
                   {"step2", logistic_json(t.step2)},
                   {"held_out", held},
                   {"step1_mean_abs_rel_error", num(t.step1_mean_abs_rel_error)},
                   {"step2_mean_abs_error", num(t.step2_mean_abs_error)},
                   {"chained_mean_abs_error", num(t.chained_mean_abs_error)},
                   {"bootstrap_used", t.bootstrap_used},
                   {"predictions", pred},
                   {"note", t.note}});
  }
  j["two_step"] = two;
  j["notes"] = r.notes;
  j["warnings"] = r.warnings;
  return j;
}

}  // namespace scalinglab::emergence
