#pragma once
// A point estimate with its uncertainty, and the bootstrap helpers shared by every fitting
// approach. `se_analytic` comes from a closed-form covariance where one exists (OLS, delta
// method); `se` and the 95% interval come from bootstrap replicates (2.5% and 97.5% percentiles,
// linear interpolation between order statistics: type 7 of Hyndman & Fan 1996).
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

namespace scalinglab::fit {

// Whether the data determine a number (the rule is in identifiability.h): kYes — identified,
// kWeak — determined only loosely, kNo — not identified (do not read it as a finding), kFixed —
// held at a given value (--fix), kNotAssessed — no verdict was computed (e.g. no bootstrap).
enum class Identified { kNotAssessed, kYes, kWeak, kNo, kFixed };
const char* to_string(Identified v);  // "not assessed", "yes", "weak", "no", "fixed"
// The inverse of to_string; kNotAssessed for any other text.
Identified identified_from(const std::string& text);

struct Identification {
  Identified verdict = Identified::kNotAssessed;
  std::string reason = "not assessed";  // short, e.g. "95% interval spans 13 orders of magnitude"
  std::string remedy;                   // the design change that would determine it; empty when none is needed
};

struct Estimate {
  double value = NAN;
  double se_analytic = NAN;
  double se = NAN;
  double lo = NAN, hi = NAN;
  Identification ident = {};
  bool has_interval() const { return std::isfinite(lo) && std::isfinite(hi); }
};

// Magnitudes at or beyond this are "unbounded": a parameter the optimiser drove towards infinity
// (e.g. R_N* = e^709.8 when no run tests it) is printed and written as such, never as 1.79e308.
constexpr double kUnboundedMagnitude = 1e300;
inline bool is_unbounded(double v) { return std::isinf(v) || (std::isfinite(v) && std::fabs(v) >= kUnboundedMagnitude); }

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

// {value, se, se_analytic, ci95: [lo, hi], identified, identification_reason[, identification_remedy]};
// non-finite and unbounded (is_unbounded) numbers as null — the reason then says why.
nlohmann::json to_json(const Estimate& e);

}  // namespace scalinglab::fit
