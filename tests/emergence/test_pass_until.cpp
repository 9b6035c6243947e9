// The PassUntil estimator (emergence/pass_until.h) on simulated Bernoulli draws with known p:
// bias and interval coverage over many replications (fixed seeds), plus hand cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "scalinglab/emergence/pass_until.h"
#include "scalinglab/model/rng.h"

using namespace scalinglab::emergence;
using scalinglab::model::SplitMix64;

namespace {

constexpr double kZ = 1.959963984540054;

struct Study {
  double mean = 0;        // mean estimate over replications
  double mc_se = 0;       // Monte Carlo standard error of that mean
  double coverage = 0;    // share of replications whose 95% interval holds the truth
  double naive_mean = 0;  // mean of the naive K/n, s/n estimator (the bias the test must catch)
  double zero_share = 0;  // replications in which no instance passed
};

// `reps` replications of a task of m instances; instance i of a replication passes each sample
// with probability draw(rng, i) (a fixed p, or one drawn from a population of instances).
using Draw = std::function<double(SplitMix64&, std::size_t)>;
Study simulate(std::size_t m, const Draw& draw, double truth, int K, int budget, int reps, std::uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<double> p(m);
  Study s;
  double sum = 0, sum2 = 0;
  int covered = 0, zeros = 0;
  std::vector<PassUntilInstance> inst(p.size());
  for (int r = 0; r < reps; ++r) {
    double naive = 0;
    for (std::size_t i = 0; i < m; ++i) p[i] = draw(rng, i);
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double pi = p[i];
      inst[i] = sample_until([&](int) { return rng.uniform() <= pi; }, K, budget);
      naive += static_cast<double>(inst[i].successes) / inst[i].samples / p.size();
    }
    const PassUntilEstimate e = estimate_pass_until(inst, K, budget);
    sum += e.value, sum2 += e.value * e.value;
    covered += e.ci_lo <= truth && truth <= e.ci_hi;
    zeros += e.successes == 0;
    s.naive_mean += naive / reps;
  }
  s.mean = sum / reps;
  s.mc_se = std::sqrt((sum2 / reps - s.mean * s.mean) / (reps - 1));
  s.coverage = static_cast<double>(covered) / reps;
  s.zero_share = static_cast<double>(zeros) / reps;
  return s;
}

Study simulate(const std::vector<double>& p, int K, int budget, int reps, std::uint64_t seed) {
  double truth = 0;
  for (double x : p) truth += x / p.size();
  return simulate(p.size(), [&](SplitMix64&, std::size_t i) { return p[i]; }, truth, K, budget, reps, seed);
}

void report_and_check(const std::string& label, const Study& s, double truth, double coverage_lo, double coverage_hi) {
  const double rel_bias = (s.mean - truth) / truth;
  std::printf("%s: truth %.3g, mean %.4g (rel. bias %+.2f%%, MC se %.2f%%), naive %+.1f%%, coverage %.3f, all-zero %.3f\n",
              label.c_str(), truth, s.mean, 100 * rel_bias, 100 * s.mc_se / truth, 100 * (s.naive_mean - truth) / truth,
              s.coverage, s.zero_share);
  // The estimator is exactly unbiased; 2% is several Monte Carlo standard errors here, and far
  // below the +33% of K/n at K = 4.
  EXPECT_LT(std::abs(rel_bias), 0.02) << label;
  EXPECT_LT(std::abs(s.mean - truth), 4 * s.mc_se) << label;
  EXPECT_GE(s.coverage, coverage_lo) << label;
  EXPECT_LE(s.coverage, coverage_hi) << label;
}

void expect_unbiased_and_covered(const std::string& label, const std::vector<double>& p, int K, int budget, int reps,
                                 double coverage_lo, double coverage_hi) {
  double truth = 0;
  for (double x : p) truth += x / p.size();
  report_and_check(label, simulate(p, K, budget, reps, 2024), truth, coverage_lo, coverage_hi);
}

}  // namespace

TEST(PassUntil, StoppingRule) {
  const std::vector<bool> outcomes = {false, true, false, true, true, false, true, true};
  int calls = 0;
  auto trial = [&](int j) {
    EXPECT_EQ(j, calls++);
    return static_cast<bool>(outcomes[j]);
  };
  PassUntilInstance r = sample_until(trial, 3, 8);
  EXPECT_EQ(r.samples, 5);  // third pass at sample index 4
  EXPECT_EQ(r.successes, 3);
  calls = 0;
  r = sample_until(trial, 3, 4);  // budget first
  EXPECT_EQ(r.samples, 4);
  EXPECT_EQ(r.successes, 2);
  r = sample_until([](int) { return false; }, 4, 50);
  EXPECT_EQ(r.samples, 50);
  EXPECT_EQ(r.successes, 0);
}

TEST(PassUntil, InstanceEstimatesByHand) {
  EXPECT_DOUBLE_EQ(pass_until_instance_estimate({10, 4}, 4, 256), 3.0 / 9.0);   // (K−1)/(n−1)
  EXPECT_DOUBLE_EQ(pass_until_instance_estimate({4, 4}, 4, 256), 1.0);          // four in four
  EXPECT_DOUBLE_EQ(pass_until_instance_estimate({256, 2}, 4, 256), 2.0 / 256);  // budget: s/n
  EXPECT_DOUBLE_EQ(pass_until_instance_estimate({256, 0}, 4, 256), 0.0);        // never passed
  EXPECT_DOUBLE_EQ(pass_until_instance_estimate({256, 4}, 4, 256), 3.0 / 255);  // K-th pass on the last sample
  EXPECT_THROW(pass_until_instance_estimate({100, 2}, 4, 256), std::invalid_argument);  // stopped early
  EXPECT_THROW(pass_until_instance_estimate({300, 1}, 4, 256), std::invalid_argument);  // beyond budget
  EXPECT_THROW(pass_until_instance_estimate({3, 4}, 4, 256), std::invalid_argument);    // s > n
  EXPECT_THROW(pass_until_instance_estimate({10, 1}, 1, 256), std::invalid_argument);   // K < 2
  PassUntilOptions o;
  o.successes = 1;
  EXPECT_THROW(validate_pass_until(o), std::invalid_argument);
  o.successes = 4, o.max_samples = 3;
  EXPECT_THROW(validate_pass_until(o), std::invalid_argument);
  o.max_samples = 10, o.temperature = 0;
  EXPECT_THROW(validate_pass_until(o), std::invalid_argument);
}

TEST(PassUntil, WilsonAndTheEdgesByHand) {
  double lo, hi;
  wilson_interval(0.5, 100, lo, hi);  // the textbook 50/100: [0.4038, 0.5962]
  EXPECT_NEAR(lo, 0.403832, 1e-6);
  EXPECT_NEAR(hi, 0.596168, 1e-6);
  wilson_interval(0.1, 50, lo, hi);  // 5/50: [0.0435, 0.2136]
  EXPECT_NEAR(lo, 0.043476, 1e-6);
  EXPECT_NEAR(hi, 0.213602, 1e-6);

  // No instance passed: "0%" with the upper bound z²/(N + z²) ≈ 3.84/N.
  std::vector<PassUntilInstance> none(10, PassUntilInstance{100, 0});
  PassUntilEstimate e = estimate_pass_until(none, 4, 100);
  EXPECT_EQ(e.value, 0.0);
  EXPECT_EQ(e.samples, 1000);
  EXPECT_EQ(e.ci_lo, 0.0);
  EXPECT_NEAR(e.ci_hi, kZ * kZ / (1000 + kZ * kZ), 1e-12);
  // Every instance passed K times in K samples: the mirror image.
  std::vector<PassUntilInstance> all(5, PassUntilInstance{4, 4});
  e = estimate_pass_until(all, 4, 100);
  EXPECT_EQ(e.value, 1.0);
  EXPECT_EQ(e.ci_hi, 1.0);
  EXPECT_NEAR(e.ci_lo, 20 / (20 + kZ * kZ), 1e-12);
  // A mixed table by hand: estimates 3/9, 0, 2/100, 1 → mean, sd/√4, n_eff, Wilson.
  const std::vector<PassUntilInstance> mixed = {{10, 4}, {100, 0}, {100, 2}, {4, 4}};
  e = estimate_pass_until(mixed, 4, 100);
  const std::vector<double> v = {3.0 / 9, 0, 0.02, 1};
  const double m = (v[0] + v[1] + v[2] + v[3]) / 4;
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  const double se = std::sqrt(ss / 3 / 4);
  EXPECT_NEAR(e.value, m, 1e-15);
  EXPECT_NEAR(e.stderr, se, 1e-15);
  EXPECT_NEAR(e.n_effective, m * (1 - m) / (se * se), 1e-9);
  wilson_interval(m, m * (1 - m) / (se * se), lo, hi);
  EXPECT_DOUBLE_EQ(e.ci_lo, lo);
  EXPECT_DOUBLE_EQ(e.ci_hi, hi);
  EXPECT_EQ(e.successes, 10);
  EXPECT_EQ(e.samples, 214);
  EXPECT_THROW(estimate_pass_until(std::vector<PassUntilInstance>{}, 4, 100), std::invalid_argument);
}

// p = 1e-3: the regime PassUntil exists for. With 100 instances and a budget of 1,000 samples each
// the greedy-style "0 of 100" turns into about 100 passes in 10^5 samples.
TEST(PassUntil, SimulatedTinyProbability) {
  expect_unbiased_and_covered("p=1e-3, K=4, budget 1000, m=100", std::vector<double>(100, 1e-3), 4, 1000, 800, 0.90, 0.99);
}

// Mostly stopped by K successes: exercises (K−1)/(n−1); the naive K/n would be ~+33%.
TEST(PassUntil, SimulatedInverseSamplingRegime) {
  const std::vector<double> p(50, 0.05);
  expect_unbiased_and_covered("p=0.05, K=4, budget 256, m=50", p, 4, 256, 2000, 0.90, 0.99);
  const Study s = simulate(p, 4, 256, 400, 7);
  EXPECT_GT((s.naive_mean - 0.05) / 0.05, 0.2) << "the naive estimator should be visibly biased here";
}

// Both stopping boundaries in play (K = 4 within a budget of 8 at p = 0.3).
TEST(PassUntil, SimulatedMixedBoundaries) {
  expect_unbiased_and_covered("p=0.3, K=4, budget 8, m=30", std::vector<double>(30, 0.3), 4, 8, 2000, 0.90, 0.99);
}

// Heterogeneous instances drawn from a task population: each instance never passes or passes
// with 2e-3, at even odds (population mean 1e-3). The standard error over instances covers that
// spread, so the interval is for the population mean (as for every metric's stderr). For one fixed
// set of instances it is conservative: the same mixture, fixed, gives coverage 0.99.
TEST(PassUntil, SimulatedHeterogeneousInstances) {
  const Draw draw = [](SplitMix64& g, std::size_t) { return g.uniform() <= 0.5 ? 2e-3 : 0.0; };
  const Study s = simulate(100, draw, 1e-3, 4, 1000, 800, 2024);
  report_and_check("p_i in {0, 2e-3} at random, K=4, budget 1000, m=100", s, 1e-3, 0.90, 0.99);
  std::vector<double> fixed(100, 0.0);
  for (std::size_t i = 0; i < fixed.size(); i += 2) fixed[i] = 2e-3;
  const Study f = simulate(fixed, 4, 1000, 400, 2025);
  std::printf("fixed p_i in {0, 2e-3}: mean %.4g, coverage %.3f\n", f.mean, f.coverage);
  EXPECT_LT(std::abs(f.mean - 1e-3), 4 * f.mc_se) << "unbiased for the fixed instances too";
  EXPECT_GE(f.coverage, 0.95) << "conservative for fixed instances";
}

// Few expected passes (2 in all): often none at all, where the interval is [0, 3.84/N]. It must
// still cover; it is conservative here (most of the misses are impossible: the upper end at zero
// passes, 1.9e-3, is above the truth).
TEST(PassUntil, SimulatedZeroSuccessRegime) {
  const Study s = simulate(std::vector<double>(20, 1e-3), 4, 100, 2000, 31);
  std::printf("p=1e-3, K=4, budget 100, m=20: mean %.4g, coverage %.3f, all-zero %.3f\n", s.mean, s.coverage, s.zero_share);
  EXPECT_GT(s.zero_share, 0.08);  // e^-2 ≈ 0.135 of the replications see no pass at all
  EXPECT_GE(s.coverage, 0.90);
  EXPECT_LT(std::abs(s.mean - 1e-3), 4 * s.mc_se);
}
