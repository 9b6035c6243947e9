// Closed forms of the compute-optimal frontier against the published constants.
#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/fit/frontier.h"

using namespace scalinglab::fit;

TEST(Frontier, PublishedChinchillaConstantsGiveTheirExponents) {
  ChinchillaParams p;  // E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28 (eq. 10)
  EXPECT_NEAR(chinchilla_a(p), 0.28 / 0.62, 1e-15);
  EXPECT_NEAR(chinchilla_a(p), 0.452, 5e-4);
  EXPECT_NEAR(chinchilla_b(p), 0.548, 5e-4);
  EXPECT_NEAR(chinchilla_G(p), std::pow(0.34 * 406.4 / (0.28 * 410.7), 1 / 0.62), 1e-12);
}

TEST(Frontier, OptimumSatisfiesTheBudgetAndIsAMinimum) {
  ChinchillaParams p;
  for (double c : {1e18, 5.76e23, 1e26}) {
    double n = chinchilla_n_opt(p, c), d = chinchilla_d_opt(p, c);
    EXPECT_NEAR(6 * n * d / c, 1, 1e-12);
    // Moving along the IsoFLOP curve in either direction raises the loss.
    double l = chinchilla_loss_opt(p, c);
    for (double f : {0.9, 1.1}) EXPECT_GT(p.loss(n * f, c / (6 * n * f)), l);
  }
}

TEST(Frontier, EpochRefitGivesAboutTwentyTokensPerParameter) {
  // Besiroglu et al. 2024's refit at C = 5.88e23: N_opt ≈ 7.3e10 and D/N ≈ 18.
  ChinchillaParams p{1.8172, 482.01, 2085.43, 0.3478, 0.3658};
  double n = chinchilla_n_opt(p, 5.88e23);
  EXPECT_NEAR(n / 7.3e10, 1, 0.02);
  EXPECT_NEAR(chinchilla_d_opt(p, 5.88e23) / n, 18.4, 0.5);
}

TEST(Frontier, GopherBudgetWithRoundedConstants) {
  // At 5.76e23 FLOPs the rounded eq. 10 constants give N_opt ≈ 32.2B (unrounded: 40.4B).
  ChinchillaParams p;
  EXPECT_NEAR(chinchilla_n_opt(p, 5.76e23) / 32.2e9, 1, 0.01);
  ChinchillaParams unrounded{std::exp(0.5267228), std::exp(6.0073404), std::exp(6.0179186), 0.33917084, 0.2849083};
  EXPECT_NEAR(chinchilla_n_opt(unrounded, 5.76e23) / 40.4e9, 1, 0.01);
}
