#pragma once
// A point estimate with its uncertainty, and the bootstrap helpers shared by every fitting
// approach. `se_analytic` comes from a closed-form covariance where one exists (OLS, delta
// method); `se` and the 95% interval come from bootstrap replicates (2.5% and 97.5% percentiles,
// linear interpolation between order statistics: type 7 of Hyndman & Fan 1996).
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

namespace scalinglab::fit {

struct Estimate {
  double value = NAN;
  double se_analytic = NAN;
  double se = NAN;
  double lo = NAN, hi = NAN;
  bool has_interval() const { return std::isfinite(lo) && std::isfinite(hi); }
};

// Sets se, lo and hi from replicates (non-finite ones are ignored; fewer than 2 leave them NaN).
void add_replicates(Estimate& e, std::vector<double> replicates);
// The same with lo/hi the (1 ± coverage)/2 percentiles, e.g. coverage 0.8: p10–p90.
void add_replicates(Estimate& e, std::vector<double> replicates, double coverage);
// The full-data `value` plus add_replicates().
Estimate summarize(double value, std::vector<double> replicates);

double sample_sd(std::span<const double> v);  // n − 1 denominator
double quantile(std::vector<double> v, double q);  // sorts a copy

// Seed of bootstrap resample `index`: depends only on (seed, index), so results do not depend on
// the number of threads or their scheduling.
uint64_t resample_seed(uint64_t seed, uint64_t index);

// {value, se, se_analytic, ci95: [lo, hi]}, non-finite numbers as null.
nlohmann::json to_json(const Estimate& e);

}  // namespace scalinglab::fit
