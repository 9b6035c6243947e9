// Muennighoff et al. 2023, "Scaling Data-Constrained Language Models": the effective-data law and
// the planner's optimum under a unique-token limit.
#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/fit/data_constrained.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/plan/optimum.h"
#include "scalinglab/plan/planner.h"

using namespace scalinglab;

namespace {
plan::Surface limited(double unique_tokens) {
  plan::Surface s = plan::preset_surface("muennighoff");
  s.data = plan::DataConstraint{unique_tokens};
  return s;
}
}  // namespace

TEST(DataConstrained, ReproducesThePublishedLossChecks) {
  // huggingface/datablations README: scaling_law(6.34e9, 242e9, 25e9) = 2.2256 and
  // scaling_law(8.67e9, 178e9, 25e9) = 2.2270 with the paper's fitted constants.
  plan::Surface s = limited(25e9);
  EXPECT_NEAR(s.loss(6.34e9, 242e9), 2.2256, 1e-4);
  EXPECT_NEAR(s.loss(8.67e9, 178e9), 2.2270, 1e-4);
}

TEST(DataConstrained, EffectiveDataSaturatesAtUTimesOnePlusRStar) {
  const double u = 1e10, r_star = 15.387756;
  EXPECT_DOUBLE_EQ(scalinglab::fit::effective_count(u, u, r_star), u);  // one epoch: D' = D
  double prev = u;
  for (double epochs : {1.5, 2.0, 4.0, 10.0, 40.0, 100.0, 400.0}) {
    const double dp = scalinglab::fit::effective_count(u, epochs * u, r_star);
    EXPECT_GT(dp, prev) << epochs;              // more repetitions always add something ...
    EXPECT_LT(dp, epochs * u) << epochs;        // ... but less than fresh data would
    EXPECT_LT(dp, u * (1 + r_star)) << epochs;  // ... and never past the ceiling
    prev = dp;
  }
  // A few epochs are nearly as good as fresh data (the paper: up to ~4 epochs change little).
  EXPECT_GT(scalinglab::fit::effective_count(u, 2 * u, r_star) / (2 * u), 0.98);
  // The gap to the ceiling shrinks like e^(−R/R*): check it numerically at R = 10·R*, 30·R*.
  for (double k : {10.0, 30.0}) {
    const double r = k * r_star, dp = scalinglab::fit::effective_count(u, (1 + r) * u, r_star);
    const double gap = (u * (1 + r_star) - dp) / (u * r_star);
    EXPECT_NEAR(gap, std::exp(-k), 1e-9 + 1e-6 * std::exp(-k));
  }
  EXPECT_NEAR(scalinglab::fit::effective_count(u, 1e6 * u, r_star) / (u * (1 + r_star)), 1, 1e-12);
}

TEST(DataConstrained, OneEpochOfEnoughDataGivesTheUnconstrainedPlan) {
  plan::Surface base = plan::preset_surface("muennighoff");
  for (double c : {1e20, 1e22, 1e24}) {
    const double n0 = fit::chinchilla_n_opt(base.chinchilla, c), d0 = fit::chinchilla_d_opt(base.chinchilla, c);
    for (double u_factor : {1.0, 3.0, 100.0}) {  // U = D_opt (exactly one epoch) and more
      plan::Optimum o = plan::optimum(limited(u_factor * d0), c);
      EXPECT_NEAR(o.n / n0, 1, 1e-3) << c << " " << u_factor;
      EXPECT_NEAR(o.d / d0, 1, 1e-3) << c << " " << u_factor;
      EXPECT_NEAR(o.loss, fit::chinchilla_loss_opt(base.chinchilla, c), 1e-9);
    }
  }
  // The same through the PlanLaw API, replicates included.
  plan::PlanLaw law{base, {base, base}, 0};
  const double c = 1e22, d0 = fit::chinchilla_d_opt(base.chinchilla, c);
  plan::limit_unique_tokens(law, plan::DataConstraint{d0});
  ASSERT_TRUE(law.replicates[1].data.has_value());
  EXPECT_NEAR(plan::optimal_allocation(law, c).n.value / fit::chinchilla_n_opt(base.chinchilla, c), 1, 1e-3);
}

namespace {
// Brute-force scan of ln N in steps of 1e-4 around `around` (independent of the bracketing).
double brute_min_loss(const plan::Surface& s, double c, double around) {
  double best = INFINITY;
  for (double v = std::log(around) - 1; v < std::log(around) + 1; v += 1e-4) {
    const double n = std::exp(v);
    best = std::min(best, s.loss(n, c / (6 * n)));
  }
  return best;
}
}  // namespace

TEST(DataConstrained, ThePublishedExampleOptimum) {
  // huggingface/datablations README: C = 1e22 with 25e9 unique tokens → 7.02e9 parameters on
  // 237.3e9 tokens (9.49 epochs) — a grid search; the planner's 1-D minimisation lands there too.
  plan::Optimum o = plan::optimum(limited(25e9), 1e22);
  EXPECT_NEAR(o.n / 7.02e9, 1, 5e-3);
  EXPECT_NEAR(o.d / 237.3e9, 1, 5e-3);
  EXPECT_NEAR(o.d / 25e9, 9.49, 0.05);
}

TEST(DataConstrained, WithThePapersConstantsScarceDataMeansMoreEpochsOnASmallerModel) {
  // Muennighoff et al. 2023 fit R_D* ≈ 15.4 > R_N* ≈ 5.3: repeated tokens lose value more slowly
  // than excess parameters, so the paper's data-constrained frontier spends compute on epochs
  // rather than parameters (as in the README example above: 7.02e9 < the unconstrained 9.2e9).
  plan::Surface base = plan::preset_surface("muennighoff");
  const double c = 1e23, n0 = fit::chinchilla_n_opt(base.chinchilla, c), d0 = fit::chinchilla_d_opt(base.chinchilla, c);
  double prev_n = n0;
  for (double frac : {0.5, 0.2, 0.05, 0.01}) {  // U as a fraction of the unconstrained D_opt
    const double u = frac * d0;
    plan::Optimum x = plan::optimum(limited(u), c);
    EXPECT_LT(x.n, prev_n) << frac;
    EXPECT_GT(x.d / u, d0 / u) << frac;  // more epochs than the unconstrained plan would run on U
    EXPECT_GT(x.loss, fit::chinchilla_loss_opt(base.chinchilla, c)) << frac;  // scarcity costs loss
    EXPECT_LE(x.loss, brute_min_loss(limited(u), c, x.n) + 1e-12) << frac;
    prev_n = x.n;
  }
}

TEST(DataConstrained, WhenRepeatedDataDecaysFasterScarceDataMeansALargerModelOnFewerEpochs) {
  // The other side of the same trade-off: with R_D* = 1 (repeats nearly worthless after a couple
  // of epochs) against R_N* = 5.3, the optimum moves to larger N and fewer epochs than the
  // unconstrained plan.
  plan::Surface base = plan::preset_surface("muennighoff");
  const double c = 1e23, n0 = fit::chinchilla_n_opt(base.chinchilla, c), d0 = fit::chinchilla_d_opt(base.chinchilla, c);
  double prev_n = n0;
  for (double frac : {0.5, 0.2, 0.05}) {
    const double u = frac * d0;
    plan::Surface s = base;
    s.data = plan::DataConstraint{u, 1.0, 5.309743};
    plan::Optimum x = plan::optimum(s, c);
    EXPECT_GT(x.n, prev_n) << frac;
    EXPECT_LT(x.d / u, d0 / u) << frac;  // fewer epochs
    EXPECT_LE(x.loss, brute_min_loss(s, c, x.n) + 1e-12) << frac;
    prev_n = x.n;
  }
}

TEST(DataConstrained, TargetLossBeyondTheSaturationIsUnreachable) {
  plan::Surface s = limited(1e9);
  // With unlimited compute the law approaches E + A/N'^α + B/(U(1+R_D*))^β, N' capped likewise;
  // a loss just above E is out of reach, one reachable at some budget comes back with that budget.
  EXPECT_TRUE(std::isnan(plan::compute_for_loss(s, s.chinchilla.E + 0.01)));
  const double c = 1e21, l = plan::optimum(s, c).loss;
  EXPECT_NEAR(plan::compute_for_loss(s, l) / c, 1, 1e-5);
}

TEST(DataConstrained, KaplanFormIsRefused) {
  plan::PlanLaw law{plan::preset_surface("kaplan"), {}, 0};
  EXPECT_THROW(plan::limit_unique_tokens(law, plan::DataConstraint{1e9}), std::invalid_argument);
}
