#include "scalinglab/emergence/mirage.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

namespace scalinglab::emergence {

double predicted_exact_match(double p, int L) { return std::pow(p, L); }
double predicted_edit_distance(double p, int L) { return L * (1 - p); }

namespace {

struct PerToken {
  double p = 0, se = 0;
};

std::unordered_map<std::string, PerToken> per_token_probabilities(const Curve& c) {
  const bool loglik = c.metric == "loglik_per_token";
  std::unordered_map<std::string, PerToken> m;
  for (size_t i = 0; i < c.points.size(); ++i) {
    PerToken t;
    if (loglik) {
      t.p = std::exp(c.points[i].value);
      t.se = t.p * c.se(i);  // d exp(l) = exp(l) dl
    } else {
      t.p = c.points[i].value;
      t.se = c.se(i);
    }
    m[c.points[i].model] = t;
  }
  return m;
}

}  // namespace

MirageTest mirage_test(const Curve& exact, const Curve& per_token, const Curve* edit, int L, const MirageOptions& o) {
  if (L < 1) throw std::invalid_argument("mirage_test: answer_len must be >= 1");
  if (per_token.metric != "token_accuracy" && per_token.metric != "loglik_per_token")
    throw std::invalid_argument("mirage_test: per-token metric must be token_accuracy or loglik_per_token, got " + per_token.metric);
  MirageTest m;
  m.group = exact.group_label();
  m.exact_label = exact.label();
  m.source_metric = per_token.metric;
  m.answer_len = L;
  m.tolerance = o.tolerance;
  const auto probs = per_token_probabilities(per_token);
  double sq = 0, worst = 0;
  std::vector<double> lx, measured, predicted;
  for (size_t i = 0; i < exact.points.size(); ++i) {
    auto it = probs.find(exact.points[i].model);
    if (it == probs.end()) continue;
    MiragePoint q;
    q.model = exact.points[i].model;
    q.x = exact.points[i].x;
    q.p = it->second.p;
    q.measured = exact.points[i].value;
    q.predicted = predicted_exact_match(q.p, L);
    const double se_pred = L * std::pow(q.p, L - 1) * it->second.se;
    q.sigma = std::hypot(exact.se(i), se_pred);
    const double err = std::fabs(q.measured - q.predicted);
    q.within = err <= std::max(o.tolerance, 2 * q.sigma);
    sq += err * err, worst = std::max(worst, err);
    lx.push_back(std::log10(q.x)), measured.push_back(q.measured), predicted.push_back(q.predicted);
    m.exact.push_back(q);
  }
  if (m.exact.size() < 3) {
    m.note = "fewer than 3 models with both " + exact.metric + " and " + per_token.metric + ": no mirage test";
    return m;
  }
  m.max_abs_error = worst;
  m.rmse = std::sqrt(sq / static_cast<double>(m.exact.size()));
  m.tracks = std::all_of(m.exact.begin(), m.exact.end(), [](const MiragePoint& q) { return q.within; });
  m.predicted = breakthrough(predicted, exact.info.higher_is_better);
  m.predicted_midpoint_log10_x = midpoint_crossing(lx, predicted);
  m.measured_midpoint_log10_x = midpoint_crossing(lx, measured);
  if (!m.tracks) {
    const auto bad = std::count_if(m.exact.begin(), m.exact.end(), [](const MiragePoint& q) { return !q.within; });
    double bias = 0;
    for (const auto& q : m.exact) bias += q.measured - q.predicted;
    m.note = std::to_string(bad) + " of " + std::to_string(m.exact.size()) + " models off p^L by more than the tolerance";
    if (bias > 0) m.note += "; measured above p^L on average (token errors are not independent)";
  }
  if (edit) {
    double ew = 0;
    for (size_t i = 0; i < edit->points.size(); ++i) {
      auto it = probs.find(edit->points[i].model);
      if (it == probs.end()) continue;
      MiragePoint q;
      q.model = edit->points[i].model;
      q.x = edit->points[i].x;
      q.p = it->second.p;
      q.measured = edit->points[i].value;
      q.predicted = predicted_edit_distance(q.p, L);
      q.sigma = std::hypot(edit->se(i), L * it->second.se);
      q.within = std::fabs(q.measured - q.predicted) <= std::max(o.tolerance * L, 2 * q.sigma);
      ew = std::max(ew, std::fabs(q.measured - q.predicted));
      m.edit.push_back(q);
    }
    if (!m.edit.empty()) m.edit_max_abs_error = ew;
  }
  return m;
}

}  // namespace scalinglab::emergence
