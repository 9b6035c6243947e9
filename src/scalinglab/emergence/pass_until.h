#pragma once
// PassUntil (Hu et al. 2023, "Predicting Emergent Abilities with Infinite Resolution Evaluation"):
// sample each instance at temperature 1 until it has passed K times or a budget of samples is
// spent, so a task whose greedy accuracy is 0 still yields a per-sample success probability with
// an error bar. This file holds the model-free parts (the stopping rule and the estimator), so
// they can be tested on simulated Bernoulli draws; score.cpp runs the rule on model samples.
//
// The estimand: P = mean over the task's instances of p_i, the probability that one sample of
// instance i passes (the expected pass@1 at that temperature).
//
// Per instance, the sampling plan stops at the K-th success (after n samples, n ≤ budget) or at
// the budget with s < K successes. Its unbiased estimator of p_i (Girshick, Mosteller & Savage
// 1946: paths to the stopping point that start with a success over all paths to it) is
//     p̂_i = (K − 1) / (n − 1)   stopped at the K-th success (the inverse-binomial estimator;
//                                 K/n would be biased upward, by K/(K−1) for small p)
//     p̂_i = s / budget          budget spent with s < K successes (0 when none passed)
// so an instance with 0 successes contributes exactly 0, not a pseudo-count, and P̂ = mean p̂_i is
// unbiased for P. K ≥ 2 is required: with K = 1 the only unbiased estimate is whether the first
// sample passed, which wastes the rest.
//
// Standard error: the sample standard deviation of the p̂_i over √m (m instances), as for every
// other metric of the lab (it includes the spread between instances).
// 95% interval: Wilson's score interval (Wilson 1927) at P̂ with an effective sample size
// n_eff = P̂(1 − P̂) / SE² (the design-effect adjustment of Korn & Graubard 1998 for proportions
// estimated from clustered samples), capped at the number of samples drawn. When no instance
// passed (P̂ = 0) or all estimates agree (SE = 0), n_eff is the number of samples N, which gives
// [0, z²/(N + z²)] ≈ [0, 3.84/N] for an all-fail task: "0%" becomes "below 3.84/N".
// Measured on simulated draws (tests/emergence/test_pass_until.cpp): relative bias within 2% and
// coverage in [0.93, 0.97] at p = 1e-3, 0.05 and 0.3 and on a mixture of instances.
#include <cstdint>
#include <functional>
#include <span>

namespace scalinglab::emergence {

struct PassUntilOptions {
  int successes = 4;          // K: stop an instance's sampling after K successes...
  int max_samples = 256;      // ...or after this many samples of it
  double temperature = 1.0;
  std::uint64_t seed = 1;
};

// Throws std::invalid_argument naming the field: successes < 2, max_samples < successes,
// temperature not finite or <= 0.
void validate_pass_until(const PassUntilOptions& options);

struct PassUntilInstance {
  int samples = 0;    // n: samples drawn
  int successes = 0;  // s: of which passed
};

// Runs the stopping rule: calls trial(j) for j = 0, 1, ... (true: sample j passed) until
// `successes` passes or `max_samples` calls.
PassUntilInstance sample_until(const std::function<bool(int sample)>& trial, int successes, int max_samples);

// p̂_i above. Throws std::invalid_argument if the record cannot come from the rule (samples
// outside [1, max_samples], successes outside [0, K], or stopped before either limit).
double pass_until_instance_estimate(const PassUntilInstance& r, int successes, int max_samples);

struct PassUntilEstimate {
  double value = 0;           // P̂
  double stderr = 0;          // SE of P̂ over instances
  double ci_lo = 0, ci_hi = 0;  // 95% Wilson interval with n_eff
  double n_effective = 0;     // n_eff used for the interval
  int instances = 0;          // m
  long long samples = 0;      // N: samples drawn over all instances
  long long successes = 0;    // passes over all instances
};

// The estimate over instances. Throws std::invalid_argument for no instances, K < 2 or a record
// the rule cannot produce (see pass_until_instance_estimate).
PassUntilEstimate estimate_pass_until(std::span<const PassUntilInstance> instances, int successes, int max_samples);

// Wilson's 95% score interval for a proportion p̂ from n (possibly effective, non-integer) trials.
void wilson_interval(double p, double n, double& lo, double& hi);

}  // namespace scalinglab::emergence
