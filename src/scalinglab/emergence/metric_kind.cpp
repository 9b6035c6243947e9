#include "scalinglab/emergence/metric_kind.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace scalinglab::emergence {

const char* to_string(MetricKind k) {
  switch (k) {
    case MetricKind::kDiscrete: return "discrete";
    case MetricKind::kContinuous: return "continuous";
    case MetricKind::kOther: break;
  }
  return "other";
}

MetricInfo metric_info(const std::string& raw) {
  std::string n = raw;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const double inf = INFINITY;
  MetricInfo m;
  m.name = n;
  auto set = [&](MetricKind kind, bool hib, double lo, double hi, bool prop, LossTransform t) {
    m.known = true, m.kind = kind, m.higher_is_better = hib, m.lo = lo, m.hi = hi, m.proportion = prop, m.loss = t;
  };
  if (n == "exact_match" || n == "accuracy" || n == "multiple_choice_grade")
    set(MetricKind::kDiscrete, true, 0, 1, true, LossTransform::kOneMinus);
  else if (n == "token_accuracy")
    set(MetricKind::kContinuous, true, 0, 1, true, LossTransform::kNegLog);
  else if (n == "pass_until")
    set(MetricKind::kContinuous, true, 0, 1, false, LossTransform::kNegLog);
  else if (n == "loglik_per_token" || n == "loglik_sum")
    set(MetricKind::kContinuous, true, -inf, 0, false, LossTransform::kNegate);
  else if (n == "edit_distance")
    set(MetricKind::kContinuous, false, 0, inf, false, LossTransform::kIdentity);
  else if (n == "brier")
    set(MetricKind::kContinuous, false, 0, 2, false, LossTransform::kIdentity);
  else if (n == "nll" || n == "task_loss" || n == "cross_entropy")
    set(MetricKind::kContinuous, false, 0, inf, false, LossTransform::kIdentity);
  else if (n == "perplexity")
    set(MetricKind::kContinuous, false, 1, inf, false, LossTransform::kNone);
  return m;
}

double loss_quantity(const MetricInfo& m, double y) {
  switch (m.loss) {
    case LossTransform::kOneMinus: return 1 - y;
    case LossTransform::kNegate: return -y;
    case LossTransform::kIdentity: return y;
    case LossTransform::kNegLog: return y > 0 ? -std::log(y) : NAN;
    case LossTransform::kNone: break;
  }
  return NAN;
}

double value_from_loss(const MetricInfo& m, double q) {
  switch (m.loss) {
    case LossTransform::kOneMinus: return 1 - q;
    case LossTransform::kNegate: return -q;
    case LossTransform::kIdentity: return q;
    case LossTransform::kNegLog: return std::exp(-q);
    case LossTransform::kNone: break;
  }
  return NAN;
}

std::string loss_quantity_name(const MetricInfo& m) {
  switch (m.loss) {
    case LossTransform::kOneMinus: return "error (1 − " + m.name + ")";
    case LossTransform::kNegate: return "task loss (−" + m.name + ")";
    case LossTransform::kIdentity: return m.name;
    case LossTransform::kNegLog: return m.name == "token_accuracy" ? "per-token loss (−ln token_accuracy)" : "−ln " + m.name;
    case LossTransform::kNone: break;
  }
  return "";
}

}  // namespace scalinglab::emergence
