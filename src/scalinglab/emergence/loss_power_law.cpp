#include "scalinglab/emergence/loss_power_law.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "scalinglab/fit/power_law_regression.h"

namespace scalinglab::emergence {

double LossPowerLaw::predict(double x) const {
  if (!fitted) return NAN;
  return offset + a * std::pow(x, -b);
}

double LossPowerLaw::unit_scale() const {
  if (!fitted || !(a > 0) || b == 0) return NAN;
  return std::pow(a, 1 / b);
}

namespace {

struct Trial {
  bool ok = false;
  double a = NAN, b = NAN, score = INFINITY;
};

// Log-log fit of q − c; score Σ (ln q − ln(c + a x^−b))².
Trial try_offset(std::span<const double> x, std::span<const double> q, double c) {
  Trial t;
  std::vector<double> r(q.size());
  for (size_t i = 0; i < q.size(); ++i) r[i] = q[i] - c;
  try {
    fit::PowerLawFit f = fit::fit_power_law(x, r);
    t.a = f.k, t.b = -f.p, t.ok = true;
    t.score = 0;
    for (size_t i = 0; i < q.size(); ++i) {
      const double d = std::log(q[i]) - std::log(c + t.a * std::pow(x[i], -t.b));
      t.score += d * d;
    }
  } catch (const std::invalid_argument&) {
    t.ok = false;
  }
  return t;
}

}  // namespace

LossPowerLaw fit_loss_power_law(std::span<const double> x, std::span<const double> q, bool offset) {
  if (x.size() != q.size()) throw std::invalid_argument("fit_loss_power_law: x and q differ in length");
  LossPowerLaw p;
  p.n = static_cast<int>(x.size());
  p.with_offset = offset;
  double qmin = INFINITY;
  for (size_t i = 0; i < q.size(); ++i) {
    if (!(q[i] > 0) || !std::isfinite(q[i])) {
      p.note = "a loss-like value is not positive (e.g. a perfect score): no power law";
      return p;
    }
    if (!(x[i] > 0) || !std::isfinite(x[i])) {
      p.note = "a scale is not positive: no power law";
      return p;
    }
    qmin = std::min(qmin, q[i]);
  }
  std::vector<double> xs(x.begin(), x.end());
  std::sort(xs.begin(), xs.end());
  if (std::unique(xs.begin(), xs.end()) - xs.begin() < 2 || p.n < (offset ? 4 : 2)) {
    p.note = offset ? "fewer than 4 points or 2 distinct scales: no power law with offset"
                    : "fewer than 2 distinct scales: no power law";
    return p;
  }
  double c = 0;
  Trial best = try_offset(x, q, 0);
  if (offset) {
    // Grid over ρ = c / min q, then golden section between the best cell's neighbours.
    const int grid = 64;
    int ibest = 0;
    for (int i = 1; i < grid; ++i) {
      Trial t = try_offset(x, q, qmin * i / grid);
      if (t.ok && t.score < best.score) best = t, ibest = i, c = qmin * i / grid;
    }
    double lo = std::max(0.0, (ibest - 1.0) / grid), hi = std::min(1.0 - 1e-9, (ibest + 1.0) / grid);
    const double g = (std::sqrt(5.0) - 1) / 2;
    double m1 = hi - g * (hi - lo), m2 = lo + g * (hi - lo);
    Trial t1 = try_offset(x, q, qmin * m1), t2 = try_offset(x, q, qmin * m2);
    for (int it = 0; it < 60 && hi - lo > 1e-12; ++it) {
      if (t1.score < t2.score) {
        hi = m2, m2 = m1, t2 = t1, m1 = hi - g * (hi - lo), t1 = try_offset(x, q, qmin * m1);
      } else {
        lo = m1, m1 = m2, t1 = t2, m2 = lo + g * (hi - lo), t2 = try_offset(x, q, qmin * m2);
      }
    }
    if (t1.ok && t1.score < best.score) best = t1, c = qmin * m1;
    if (t2.ok && t2.score < best.score) best = t2, c = qmin * m2;
  }
  if (!best.ok) {
    p.note = "power law could not be fitted";
    return p;
  }
  p.fitted = true;
  p.a = best.a, p.b = best.b, p.offset = c;
  double mean = 0;
  for (double v : q) mean += std::log(v);
  mean /= static_cast<double>(q.size());
  double tss = 0;
  for (double v : q) tss += (std::log(v) - mean) * (std::log(v) - mean);
  p.r2 = tss > 0 ? 1 - best.score / tss : NAN;
  p.rmse_log = std::sqrt(best.score / static_cast<double>(q.size()));
  if (p.b < 0) p.note = "q grows with scale (negative exponent)";
  return p;
}

}  // namespace scalinglab::emergence
