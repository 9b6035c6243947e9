#include "scalinglab/emergence/forecast.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "scalinglab/fit/estimate.h"
#include "scalinglab/model/rng.h"

namespace scalinglab::emergence {

const char* to_string(ForecastMethod m) {
  switch (m) {
    case ForecastMethod::kLogistic: return "logistic";
    case ForecastMethod::kPowerLaw: return "power_law";
    case ForecastMethod::kNone: break;
  }
  return "none";
}

ForecastMethod forecast_method(const MetricInfo& m) {
  if (m.kind == MetricKind::kContinuous && m.loss != LossTransform::kNone) return ForecastMethod::kPowerLaw;
  return ForecastMethod::kLogistic;
}

int min_fit_points(ForecastMethod m) { return m == ForecastMethod::kPowerLaw ? 3 : 4; }

bool is_task_loss_metric(const MetricInfo& m) {
  return m.name == "loglik_per_token" || m.name == "nll" || m.name == "task_loss" || m.name == "cross_entropy";
}

std::vector<double> predict_from(const MetricInfo& metric, ForecastMethod method, const std::vector<double>& x,
                                 const std::vector<double>& y, const std::vector<double>& at, bool offset,
                                 std::string* note) {
  std::vector<double> out(at.size(), NAN);
  if (method == ForecastMethod::kPowerLaw) {
    std::vector<double> q;
    for (double v : y) q.push_back(loss_quantity(metric, v));
    LossPowerLaw pl = fit_loss_power_law(x, q, offset);
    if (!pl.fitted) {
      if (note) *note = pl.note;
      return out;
    }
    for (size_t i = 0; i < at.size(); ++i) out[i] = value_from_loss(metric, pl.predict(at[i]));
  } else if (method == ForecastMethod::kLogistic) {
    std::vector<double> t;
    for (double v : x) t.push_back(std::log10(v));
    LogisticOptions lo;
    lo.lo = metric.lo, lo.hi = metric.hi;
    LogisticFit f = fit_logistic(t, y, lo);
    // A flat prefix (or too few distinct scales for a sigmoid) still forecasts: the constant.
    if (!f.fitted && note) *note = f.note;
    if (!f.fitted && static_cast<int>(x.size()) < min_fit_points(method)) return out;
    for (size_t i = 0; i < at.size(); ++i) out[i] = f.p(std::log10(at[i]));
  }
  return out;
}

namespace {

struct Split {
  std::vector<double> x, y;
};

Split prefix(const Curve& c, size_t m) {
  Split s;
  for (size_t i = 0; i < m && i < c.points.size(); ++i) s.x.push_back(c.points[i].x), s.y.push_back(c.points[i].value);
  return s;
}

double tolerance_at(const Curve& c, size_t i, double range, double tol) { return std::max(tol * range, 2 * c.se(i)); }

}  // namespace

CurveForecast forecast_curve(const Curve& c, double jump, const ForecastOptions& o) {
  CurveForecast f;
  const ForecastMethod method = forecast_method(c.info);
  f.method = to_string(method);
  const size_t n = c.points.size();
  const int need = min_fit_points(method);
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& p : c.points) lo = std::min(lo, p.value), hi = std::max(hi, p.value);
  const double range = hi - lo;

  // Smaller half → larger half.
  const size_t m = (n + 1) / 2;
  f.fit_points = static_cast<int>(m);
  if (static_cast<int>(m) < need) {
    f.note = "fewer than " + std::to_string(need) + " scales in the smaller half: no forecast";
  } else {
    Split s = prefix(c, m);
    std::vector<double> at;
    for (size_t i = m; i < n; ++i) at.push_back(c.points[i].x);
    std::string note;
    const std::vector<double> pred = predict_from(c.info, method, s.x, s.y, at, o.power_law_offset, &note);
    double sum = 0, worst = 0;
    bool all = true, any = false;
    for (size_t i = m; i < n; ++i) {
      ForecastPoint p;
      p.model = c.points[i].model;
      p.x = c.points[i].x;
      p.measured = c.points[i].value;
      p.predicted = pred[i - m];
      p.tolerance = tolerance_at(c, i, range, o.tolerance);
      const double err = std::fabs(p.predicted - p.measured);
      p.within = err <= p.tolerance;
      if (std::isfinite(err)) sum += err, worst = std::max(worst, err), any = true;
      all = all && p.within;
      f.held_out.push_back(p);
    }
    if (any) {
      f.mean_abs_error = sum / static_cast<double>(n - m);
      f.max_abs_error = worst;
      f.all_within = all;
    } else {
      f.note = note.empty() ? "no prediction" : note;
    }
  }

  // Lead before the jump.
  f.jump_log10_x = jump;
  if (!std::isfinite(jump)) {
    if (f.note.empty()) f.note = "no jump in the group: no lead";
    return f;
  }
  std::vector<size_t> post;
  int pre = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::log10(c.points[i].x) < jump) ++pre;
    else post.push_back(i);
  }
  f.pre_jump = pre;
  f.post_jump = static_cast<int>(post.size());
  if (post.empty()) return f;
  std::vector<double> at;
  for (size_t i : post) at.push_back(c.points[i].x);
  for (int mm = need; mm <= pre; ++mm) {
    Split s = prefix(c, static_cast<size_t>(mm));
    const std::vector<double> pred = predict_from(c.info, method, s.x, s.y, at, o.power_law_offset, nullptr);
    bool ok = true;
    for (size_t j = 0; j < post.size() && ok; ++j)
      ok = std::fabs(pred[j] - c.points[post[j]].value) <= tolerance_at(c, post[j], range, o.tolerance);
    if (ok) {
      f.min_prefix = mm;
      f.lead_scales = pre - mm;
      break;
    }
  }
  return f;
}

namespace {

struct Joint {
  std::vector<std::string> model;
  std::vector<double> x, q, a;
};

struct Chain {
  bool ok = false;
  LossPowerLaw s1;
  LogisticFit s2;
};

Chain fit_chain(const std::vector<double>& x, const std::vector<double>& q, const std::vector<double>& a,
                const MetricInfo& acc, bool offset, const Logistic* warm = nullptr) {
  Chain c;
  c.s1 = fit_loss_power_law(x, q, offset);
  LogisticOptions lo;
  lo.lo = acc.lo, lo.hi = acc.hi;
  lo.warm_start = warm;
  c.s2 = fit_logistic(q, a, lo);
  // A flat accuracy (all at the floor) still chains: step 2 predicts the constant.
  c.ok = c.s1.fitted && (c.s2.fitted || c.s2.n >= 4);
  return c;
}

double chained(const Chain& c, double x) { return c.s2.p(c.s1.predict(x)); }

}  // namespace

TwoStepForecast two_step_forecast(const Curve& loss, const Curve& acc, const ForecastOptions& o) {
  TwoStepForecast f;
  f.group = acc.group_label();
  f.loss_label = loss.label();
  f.accuracy_label = acc.label();
  std::unordered_map<std::string, double> q_of;
  for (const auto& p : loss.points) q_of[p.model] = loss_quantity(loss.info, p.value);
  Joint j;
  for (const auto& p : acc.points) {
    auto it = q_of.find(p.model);
    if (it == q_of.end()) continue;
    j.model.push_back(p.model), j.x.push_back(p.x), j.q.push_back(it->second), j.a.push_back(p.value);
  }
  const size_t n = j.x.size();
  f.models = static_cast<int>(n);
  if (n < 5) {
    f.note = "fewer than 5 models with both " + loss.metric + " and " + acc.metric + ": no two-step forecast";
    return f;
  }
  const size_t m = std::max<size_t>((n + 1) / 2, 4);
  f.fit_points = static_cast<int>(m);
  std::vector<double> fx(j.x.begin(), j.x.begin() + m), fq(j.q.begin(), j.q.begin() + m), fa(j.a.begin(), j.a.begin() + m);
  Chain c = fit_chain(fx, fq, fa, acc.info, o.power_law_offset);
  f.step1 = c.s1;
  f.step2 = c.s2;
  if (!c.ok) {
    f.note = !c.s1.fitted ? "step 1: " + c.s1.note : "step 2: " + c.s2.note;
    return f;
  }
  f.ok = true;

  // Bootstrap over the fitting scales (cases): both steps refitted per replicate.
  auto bootstrap = [&](const std::vector<double>& bx, const std::vector<double>& bq, const std::vector<double>& ba,
                       const std::vector<double>& at, const Chain& full, std::vector<std::vector<double>>& preds) {
    preds.assign(at.size(), {});
    const size_t k = bx.size();
    int used = 0;
    for (int b = 0; b < o.bootstrap; ++b) {
      model::SplitMix64 rng(fit::resample_seed(o.seed, static_cast<uint64_t>(b)));
      std::vector<double> rx(k), rq(k), ra(k);
      for (size_t i = 0; i < k; ++i) {
        const size_t s = static_cast<size_t>(rng.next_u64() % k);
        rx[i] = bx[s], rq[i] = bq[s], ra[i] = ba[s];
      }
      std::vector<double> d = rx;
      std::sort(d.begin(), d.end());
      if (std::unique(d.begin(), d.end()) - d.begin() < 3) continue;
      // Replicates refit step 2 from the full fit's optimum (warm start, coarse grid).
      Chain r = fit_chain(rx, rq, ra, acc.info, o.power_law_offset, full.s2.fitted ? &full.s2.p : nullptr);
      if (!r.ok) continue;
      ++used;
      for (size_t i = 0; i < at.size(); ++i) preds[i].push_back(chained(r, at[i]));
    }
    return used;
  };

  std::vector<double> at(j.x.begin() + m, j.x.end());
  std::vector<std::vector<double>> preds;
  f.bootstrap_used = o.bootstrap > 0 ? bootstrap(fx, fq, fa, at, c, preds) : 0;
  double e1 = 0, e2 = 0, ec = 0;
  for (size_t i = m; i < n; ++i) {
    TwoStepPoint p;
    p.model = j.model[i];
    p.x = j.x[i];
    p.loss_measured = j.q[i];
    p.loss_predicted = c.s1.predict(p.x);
    p.accuracy_measured = j.a[i];
    p.accuracy_from_measured_loss = c.s2.p(p.loss_measured);
    p.accuracy_predicted = chained(c, p.x);
    if (o.bootstrap > 0 && preds[i - m].size() >= 2) {
      p.accuracy_lo = fit::quantile(preds[i - m], 0.025);
      p.accuracy_hi = fit::quantile(preds[i - m], 0.975);
      p.covered = p.accuracy_measured >= p.accuracy_lo && p.accuracy_measured <= p.accuracy_hi;
    }
    e1 += std::fabs(p.loss_predicted - p.loss_measured) / p.loss_measured;
    e2 += std::fabs(p.accuracy_from_measured_loss - p.accuracy_measured);
    ec += std::fabs(p.accuracy_predicted - p.accuracy_measured);
    f.held_out.push_back(p);
  }
  const double h = static_cast<double>(n - m);
  f.step1_mean_abs_rel_error = e1 / h, f.step2_mean_abs_error = e2 / h, f.chained_mean_abs_error = ec / h;

  if (!o.predict_at.empty()) {
    Chain all = fit_chain(j.x, j.q, j.a, acc.info, o.power_law_offset);
    if (all.ok) {
      std::vector<std::vector<double>> ap;
      if (o.bootstrap > 0) bootstrap(j.x, j.q, j.a, o.predict_at, all, ap);
      for (size_t i = 0; i < o.predict_at.size(); ++i) {
        TwoStepPoint p;
        p.x = o.predict_at[i];
        p.loss_predicted = all.s1.predict(p.x);
        p.accuracy_predicted = chained(all, p.x);
        if (o.bootstrap > 0 && ap[i].size() >= 2)
          p.accuracy_lo = fit::quantile(ap[i], 0.025), p.accuracy_hi = fit::quantile(ap[i], 0.975);
        f.predictions.push_back(p);
      }
    }
  }
  return f;
}

}  // namespace scalinglab::emergence
