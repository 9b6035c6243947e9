#include "scalinglab/emergence/pass_until.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace scalinglab::emergence {

namespace {
constexpr double kZ95 = 1.959963984540054;  // standard normal 0.975 quantile
}

void validate_pass_until(const PassUntilOptions& o) {
  if (o.successes < 2)
    throw std::invalid_argument("successes: must be >= 2 (got " + std::to_string(o.successes) +
                                "; with K = 1 the only unbiased estimate is whether the first sample passed)");
  if (o.max_samples < o.successes)
    throw std::invalid_argument("max_samples: must be >= successes (" + std::to_string(o.successes) + "), got " +
                                std::to_string(o.max_samples));
  if (!std::isfinite(o.temperature) || o.temperature <= 0)
    throw std::invalid_argument("temperature: must be finite and > 0 for sampling (got " + std::to_string(o.temperature) + ")");
}

PassUntilInstance sample_until(const std::function<bool(int)>& trial, int successes, int max_samples) {
  PassUntilInstance r;
  while (r.successes < successes && r.samples < max_samples) {
    if (trial(r.samples)) ++r.successes;
    ++r.samples;
  }
  return r;
}

double pass_until_instance_estimate(const PassUntilInstance& r, int K, int max_samples) {
  if (K < 2) throw std::invalid_argument("successes: must be >= 2 (got " + std::to_string(K) + ")");
  const bool hit = r.successes == K;
  if (r.samples < 1 || r.samples > max_samples || r.successes < 0 || r.successes > K || r.successes > r.samples ||
      (!hit && r.samples != max_samples))
    throw std::invalid_argument("instance: (samples=" + std::to_string(r.samples) + ", successes=" +
                                std::to_string(r.successes) + ") cannot come from sampling until " + std::to_string(K) +
                                " successes or " + std::to_string(max_samples) + " samples");
  if (hit) return static_cast<double>(K - 1) / static_cast<double>(r.samples - 1);  // samples >= K >= 2
  return static_cast<double>(r.successes) / static_cast<double>(max_samples);
}

void wilson_interval(double p, double n, double& lo, double& hi) {
  const double z2 = kZ95 * kZ95;
  const double denom = 1 + z2 / n;
  const double centre = (p + z2 / (2 * n)) / denom;
  const double half = kZ95 / denom * std::sqrt(std::max(0.0, p * (1 - p) / n + z2 / (4 * n * n)));
  lo = std::max(0.0, centre - half);
  hi = std::min(1.0, centre + half);
  if (p <= 0) lo = 0;  // exact ends (rounding in centre − half)
  if (p >= 1) hi = 1;
}

PassUntilEstimate estimate_pass_until(std::span<const PassUntilInstance> instances, int K, int max_samples) {
  if (instances.empty()) throw std::invalid_argument("instances: none to estimate from");
  PassUntilEstimate e;
  e.instances = static_cast<int>(instances.size());
  std::vector<double> p(instances.size());
  double sum = 0;
  for (std::size_t i = 0; i < instances.size(); ++i) {
    p[i] = pass_until_instance_estimate(instances[i], K, max_samples);
    sum += p[i];
    e.samples += instances[i].samples;
    e.successes += instances[i].successes;
  }
  const double m = static_cast<double>(instances.size());
  e.value = sum / m;
  double ss = 0;
  for (double v : p) ss += (v - e.value) * (v - e.value);
  e.stderr = instances.size() > 1 ? std::sqrt(ss / (m - 1) / m) : 0.0;
  const double N = static_cast<double>(e.samples);
  e.n_effective = N;
  if (e.stderr > 0 && e.value > 0 && e.value < 1)
    e.n_effective = std::min(N, e.value * (1 - e.value) / (e.stderr * e.stderr));
  wilson_interval(e.value, e.n_effective, e.ci_lo, e.ci_hi);
  return e;
}

}  // namespace scalinglab::emergence
