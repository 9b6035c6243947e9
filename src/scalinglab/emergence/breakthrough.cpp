#include "scalinglab/emergence/breakthrough.h"

#include <algorithm>
#include <cmath>

namespace scalinglab::emergence {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// sign(argmax − argmin)·(max − min) with first-occurrence extremes.
double improvement(std::span<const double> y) {
  // First occurrence of each extreme (numpy argmax semantics).
  const double vmax = *std::max_element(y.begin(), y.end()), vmin = *std::min_element(y.begin(), y.end());
  const size_t imax = static_cast<size_t>(std::find(y.begin(), y.end(), vmax) - y.begin());
  const size_t imin = static_cast<size_t>(std::find(y.begin(), y.end(), vmin) - y.begin());
  const double range = vmax - vmin;
  if (!(range > 0)) return 0;
  return imax > imin ? range : -range;
}

}  // namespace

Breakthrough breakthrough(std::span<const double> y_in, bool higher_is_better) {
  Breakthrough b;
  b.n = static_cast<int>(y_in.size());
  if (y_in.size() < 2) {
    b.I = b.B = b.L = NAN;
    return b;
  }
  std::vector<double> y(y_in.begin(), y_in.end());
  if (!higher_is_better)
    for (double& v : y) v = -v;
  b.I = improvement(y);
  if (b.I == 0) return b;  // flat: B = L = 0 by convention (0/0)
  std::vector<double> sq;
  double sum = 0;
  for (size_t i = 0; i + 1 < y.size(); ++i) {
    const double d = y[i + 1] - y[i];
    sq.push_back(d * d);
    sum += d * d;
  }
  const double med = median(sq);
  b.B = med > 0 ? b.I / std::sqrt(med) : (b.I > 0 ? INFINITY : -INFINITY);
  b.L = b.I / std::sqrt(sum / static_cast<double>(sq.size()));  // sum > 0 since I ≠ 0
  return b;
}

double sharpness(const Breakthrough& b) {
  if (b.n < 2 || std::isnan(b.B)) return NAN;
  return std::fabs(b.B) / (b.n - 1);
}

SharpnessSeries sharpness_series(const MetricInfo& m, std::span<const double> y) {
  SharpnessSeries s;
  s.y.assign(y.begin(), y.end());
  s.higher_is_better = m.higher_is_better;
  s.basis = "value";
  if (m.kind != MetricKind::kContinuous) return s;
  std::vector<double> lq;
  for (double v : y) {
    const double q = loss_quantity(m, v);
    if (!(q > 0) || !std::isfinite(q)) return s;
    lq.push_back(std::log(q));
  }
  s.y = std::move(lq);
  s.higher_is_better = false;  // q falls with scale
  s.basis = "log_loss";
  return s;
}

int first_index_after_crossing(std::span<const double> y) {
  if (y.size() < 2) return -1;
  const double I = improvement(y);
  if (I == 0) return -1;
  const double s = I > 0 ? 1 : -1;
  double lo = y[0], hi = y[0];
  for (double v : y) lo = std::min(lo, v), hi = std::max(hi, v);
  const double level = s * 0.5 * (lo + hi);
  for (size_t i = 0; i + 1 < y.size(); ++i)
    if (s * y[i] < level && level <= s * y[i + 1]) return static_cast<int>(i + 1);
  return -1;  // unreachable: a point below the level precedes one above it when I ≠ 0
}

double midpoint_crossing(std::span<const double> lx, std::span<const double> y) {
  const int j = first_index_after_crossing(y);
  if (j < 1) return NAN;
  const double I = improvement(y);
  const double s = I > 0 ? 1 : -1;
  double lo = y[0], hi = y[0];
  for (double v : y) lo = std::min(lo, v), hi = std::max(hi, v);
  const double level = s * 0.5 * (lo + hi);
  const double a = s * y[j - 1], b = s * y[j];
  const double t = (level - a) / (b - a);  // b > a: level lies in (a, b]
  return lx[j - 1] + t * (lx[j] - lx[j - 1]);
}

}  // namespace scalinglab::emergence
