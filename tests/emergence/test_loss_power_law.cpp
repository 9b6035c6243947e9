// Power laws of a loss-like quantity: exact recovery with and without an offset, and the
// refusals (non-positive values, one scale).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "scalinglab/emergence/loss_power_law.h"

using namespace scalinglab::emergence;

TEST(LossPowerLaw, RecoversPurePowerLaw) {
  std::vector<double> x, q;
  for (int i = 0; i < 7; ++i) x.push_back(std::pow(10.0, 18 + 0.5 * i)), q.push_back(40 * std::pow(x.back(), -0.07));
  LossPowerLaw p = fit_loss_power_law(x, q);
  ASSERT_TRUE(p.fitted);
  EXPECT_NEAR(p.a / 40, 1, 1e-9);
  EXPECT_NEAR(p.b, 0.07, 1e-12);
  EXPECT_EQ(p.offset, 0);
  EXPECT_NEAR(p.r2, 1, 1e-12);
  EXPECT_NEAR(p.predict(1e23) / (40 * std::pow(1e23, -0.07)), 1, 1e-9);
  EXPECT_NEAR(p.unit_scale(), std::pow(40.0, 1 / 0.07), std::pow(40.0, 1 / 0.07) * 1e-6);
}

TEST(LossPowerLaw, RecoversOffset) {
  std::vector<double> x, q;
  for (int i = 0; i < 9; ++i) x.push_back(std::pow(10.0, 6 + 0.5 * i)), q.push_back(1.7 + 300 * std::pow(x.back(), -0.35));
  LossPowerLaw p = fit_loss_power_law(x, q, true);
  ASSERT_TRUE(p.fitted);
  EXPECT_NEAR(p.offset, 1.7, 1e-6);
  EXPECT_NEAR(p.b, 0.35, 1e-6);
  EXPECT_NEAR(p.a / 300, 1, 1e-5);
  // Without the offset the same data bend away from a line: a worse fit.
  EXPECT_LT(fit_loss_power_law(x, q, false).r2, p.r2);
}

TEST(LossPowerLaw, RefusesWhatItCannotFit) {
  EXPECT_FALSE(fit_loss_power_law(std::vector<double>{1, 2, 3}, std::vector<double>{1, 0, 0.5}).fitted);
  EXPECT_FALSE(fit_loss_power_law(std::vector<double>{2, 2, 2}, std::vector<double>{1, 0.9, 0.8}).fitted);
  EXPECT_FALSE(fit_loss_power_law(std::vector<double>{1, 2, 3}, std::vector<double>{1, 0.9, 0.8}, true).fitted);
  EXPECT_THROW(fit_loss_power_law(std::vector<double>{1, 2}, std::vector<double>{1}), std::invalid_argument);
}
