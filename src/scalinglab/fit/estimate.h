#pragma once
// A point estimate with its bootstrap standard error and 95% percentile interval.
#include <cmath>
#include <string>
#include <vector>

namespace scalinglab::fit {

struct Estimate {
  double value = NAN;
  double se = NAN;
  double lo = NAN, hi = NAN;  // 2.5% and 97.5% percentiles of the bootstrap distribution
  bool has_interval() const { return std::isfinite(lo) && std::isfinite(hi); }
};

// SE (sample standard deviation) and percentile interval of bootstrap replicates; non-finite
// replicates are ignored. `value` is the full-data estimate.
Estimate summarize(double value, std::vector<double> replicates);

// Linear-interpolated quantile of sorted values, q in [0, 1].
double quantile_sorted(const std::vector<double>& sorted, double q);

}  // namespace scalinglab::fit
