#pragma once
// What the analysis knows about a metric name of the long results table (docs/EMERGENCE.md):
// its direction, its allowed range, whether it is discrete (a 0/1 score averaged over examples,
// the kind Schaeffer, Miranda & Koyejo 2023 blame for apparent emergence) or continuous, and
// which "loss-like" quantity q > 0 — falling with scale — it maps to for power-law fits.
//
//   metric                         better  range      kind        q (power-law quantity)
//   exact_match, accuracy,
//   multiple_choice_grade          higher  [0, 1]     discrete    1 − y (error rate)
//   token_accuracy                 higher  [0, 1]     continuous  −ln y (per-token loss: Schaeffer
//                                                                  et al.'s CE when y = p = e^−CE;
//                                                                  ≈ 1 − y, the per-token error,
//                                                                  near y = 1)
//   pass_until                     higher  [0, 1]     continuous  −ln y (Hu et al. 2023, eq. 3:
//                                                                  PU = exp(−c·N^−α))
//   loglik_per_token, loglik_sum   higher  (−inf, 0]  continuous  −y (task loss, nats)
//   edit_distance                  lower   [0, inf)   continuous  y
//   brier                          lower   [0, 2]     continuous  y
//   nll, task_loss, cross_entropy  lower   [0, inf)   continuous  y
//   perplexity                     lower   [1, inf)   — converted to loglik_per_token = −ln ppl
//   anything else                  from the higher_is_better column (default: higher), no range,
//                                  kind "other", no q
#include <string>

namespace scalinglab::emergence {

enum class MetricKind { kDiscrete, kContinuous, kOther };
const char* to_string(MetricKind k);  // "discrete", "continuous", "other"

// How q is obtained from the value y (and back).
enum class LossTransform { kNone, kOneMinus, kNegate, kIdentity, kNegLog };

struct MetricInfo {
  std::string name;            // canonical lower-case name
  bool known = false;          // one of the names above
  MetricKind kind = MetricKind::kOther;
  bool higher_is_better = true;
  double lo = -1.0 / 0.0, hi = 1.0 / 0.0;  // allowed values (inclusive); refused outside
  bool proportion = false;     // a mean of 0/1 scores: binomial standard error from n_examples
  LossTransform loss = LossTransform::kNone;
};

// Case-insensitive lookup; unknown names give kind kOther, higher_is_better = true, no range.
MetricInfo metric_info(const std::string& name);

// q for value y (NaN when the metric has no q, or y maps outside q's domain, e.g. −ln 0).
double loss_quantity(const MetricInfo& m, double y);
// The value y for a quantity q (inverse of loss_quantity; NaN without a transform).
double value_from_loss(const MetricInfo& m, double q);
// A short description of q for plots and JSON, e.g. "task loss (−loglik_per_token)".
std::string loss_quantity_name(const MetricInfo& m);

}  // namespace scalinglab::emergence
