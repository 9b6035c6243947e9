#include "scalinglab/fit/estimate.h"

#include <algorithm>

namespace scalinglab::fit {

double sample_sd(std::span<const double> v) {
  if (v.size() < 2) return NAN;
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double h = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

void add_replicates(Estimate& e, std::vector<double> reps) { add_replicates(e, std::move(reps), 0.95); }

void add_replicates(Estimate& e, std::vector<double> reps, double coverage) {
  reps.erase(std::remove_if(reps.begin(), reps.end(), [](double v) { return !std::isfinite(v); }), reps.end());
  if (reps.size() < 2) return;
  e.se = sample_sd(reps);
  e.lo = quantile(reps, (1 - coverage) / 2);
  e.hi = quantile(reps, (1 + coverage) / 2);
}

Estimate summarize(double value, std::vector<double> reps) {
  Estimate e;
  e.value = value;
  add_replicates(e, std::move(reps));
  return e;
}

uint64_t resample_seed(uint64_t seed, uint64_t index) {
  // Two SplitMix64 steps: mixing the seed first keeps (seed, i) and (seed+1, i−1) unrelated.
  auto mix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return mix(mix(seed) ^ index);
}

const char* to_string(Identified v) {
  switch (v) {
    case Identified::kYes: return "yes";
    case Identified::kWeak: return "weak";
    case Identified::kNo: return "no";
    case Identified::kFixed: return "fixed";
    default: return "not assessed";
  }
}

Identified identified_from(const std::string& text) {
  for (Identified v : {Identified::kYes, Identified::kWeak, Identified::kNo, Identified::kFixed})
    if (text == to_string(v)) return v;
  return Identified::kNotAssessed;
}

nlohmann::json to_json(const Estimate& e) {
  auto num = [](double v) { return std::isfinite(v) && !is_unbounded(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json j = {{"value", num(e.value)},
                      {"se", num(e.se)},
                      {"se_analytic", num(e.se_analytic)},
                      {"ci95", nlohmann::json::array({num(e.lo), num(e.hi)})},
                      {"identified", to_string(e.ident.verdict)},
                      {"identification_reason", e.ident.reason}};
  if (!e.ident.remedy.empty()) j["identification_remedy"] = e.ident.remedy;
  return j;
}

}  // namespace scalinglab::fit
