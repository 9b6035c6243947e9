#include "scalinglab/fit/estimate.h"

#include <algorithm>

namespace scalinglab::fit {

double quantile_sorted(const std::vector<double>& s, double q) {
  if (s.empty()) return NAN;
  double pos = q * static_cast<double>(s.size() - 1);
  size_t i = static_cast<size_t>(pos);
  if (i + 1 >= s.size()) return s.back();
  double f = pos - static_cast<double>(i);
  return s[i] * (1 - f) + s[i + 1] * f;
}

Estimate summarize(double value, std::vector<double> reps) {
  Estimate e;
  e.value = value;
  reps.erase(std::remove_if(reps.begin(), reps.end(), [](double v) { return !std::isfinite(v); }), reps.end());
  if (reps.size() < 2) return e;
  double mean = 0;
  for (double v : reps) mean += v;
  mean /= static_cast<double>(reps.size());
  double ss = 0;
  for (double v : reps) ss += (v - mean) * (v - mean);
  e.se = std::sqrt(ss / static_cast<double>(reps.size() - 1));
  std::sort(reps.begin(), reps.end());
  e.lo = quantile_sorted(reps, 0.025);
  e.hi = quantile_sorted(reps, 0.975);
  return e;
}

}  // namespace scalinglab::fit
