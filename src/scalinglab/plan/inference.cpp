#include "scalinglab/plan/inference.h"

#include <cmath>
#include <limits>

#include "scalinglab/plan/optimum.h"

namespace scalinglab::plan {

namespace {
LifetimePlan lifetime(double n, double d, double loss, double t) {
  LifetimePlan p{n, d, loss, 6 * n * d, 2 * n * t, NAN};
  p.total_flops = p.train_flops + p.inference_flops;
  return p;
}
}  // namespace

InferenceAware inference_aware(const Surface& s, double c, double t) {
  InferenceAware r;
  r.inference_tokens = t;
  const Optimum o = optimum(s, c);
  if (!std::isfinite(o.n)) return r;
  r.training_only = lifetime(o.n, o.d, o.loss, t);
  // Lifetime FLOPs along the iso-loss curve, as a function of u = ln N. Sardana et al. solve the
  // stationarity condition by Newton's method; a bracketed 1-D search needs no derivatives and
  // works for any surface. The optimum is never larger than the training-only N: adding 2·N·T,
  // increasing in N, to a cost minimised at N_opt moves the minimum down.
  auto cost = [&](double u) {
    const double n = std::exp(u), d = tokens_for_loss(s, n, o.loss);
    return std::isfinite(d) ? 6 * n * d + 2 * n * t : std::numeric_limits<double>::infinity();
  };
  const double hi = std::log(o.n) + 0.5, lo = std::max(std::log(o.n) - 30, 0.0);
  double u = bracketed_min(cost, lo, hi, static_cast<int>((hi - lo) / 0.05) + 1, false);
  // The training-only plan is itself on the curve: never return worse than it (the search's
  // rounding could otherwise lose to it by a few ulps at T = 0).
  if (!std::isfinite(u) || !(cost(u) < r.training_only.total_flops)) u = std::log(o.n);
  const double n = std::exp(u);
  const double d = u == std::log(o.n) ? o.d : tokens_for_loss(s, n, o.loss);
  r.inference_aware = lifetime(n, d, s.loss(n, d), t);
  return r;
}

}  // namespace scalinglab::plan
