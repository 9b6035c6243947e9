#include "scalinglab/fit/power_law_regression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

using namespace scalinglab::fit;

TEST(PowerLawRegression, ExactDataRecoversKAndP) {
  // Values of the size of Chinchilla's N_opt = k·C^a fit (Hoffmann et al. 2022, Table A3 region):
  // x over 10 decades at ln x ≈ 40–63, where an uncentred design would lose digits.
  const double k = 0.1254, p = 0.4516;
  std::vector<double> x, y;
  for (int i = 0; i <= 20; ++i) {
    x.push_back(std::pow(10.0, 17 + 0.5 * i));
    y.push_back(k * std::pow(x.back(), p));
  }
  const PowerLawFit f = fit_power_law(x, y);
  EXPECT_NEAR(f.p, p, 1e-10);
  EXPECT_NEAR(f.k / k, 1.0, 1e-10);
  EXPECT_NEAR(f.r2, 1.0, 1e-12);
  EXPECT_LT(f.se_p, 1e-10);
  ASSERT_EQ(f.residuals.size(), x.size());
  for (double r : f.residuals) EXPECT_LT(std::abs(r), 1e-10);
  EXPECT_NEAR(f.predict(1e24) / (k * std::pow(1e24, p)), 1.0, 1e-10);
}

TEST(PowerLawRegression, NegativeExponentAndTwoPoints) {
  const std::vector<double> x{2.0, 8.0}, y{3.0 / 2.0, 3.0 / 8.0};  // y = 3/x
  const PowerLawFit f = fit_power_law(x, y);
  EXPECT_NEAR(f.p, -1.0, 1e-12);
  EXPECT_NEAR(f.k, 3.0, 1e-12);
  EXPECT_TRUE(std::isnan(f.se_p));  // no residual degrees of freedom
}

TEST(PowerLawRegression, StandardErrorsMatchTextbookFormulas) {
  // Noisy data; compare with OLS formulas written out independently of the implementation:
  // se(p) = s/sqrt(Sxx), se(b0) = s·sqrt(1/n + x̄²/Sxx) with s² = RSS/(n−2).
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::vector<double> x, y, lx, ly;
  for (int i = 0; i < 30; ++i) {
    x.push_back(std::exp(1.0 + 0.2 * i));
    y.push_back(2.0 * std::pow(x.back(), 0.7) * std::exp(noise(rng)));
    lx.push_back(std::log(x.back()));
    ly.push_back(std::log(y.back()));
  }
  const double n = 30;
  double mx = 0, my = 0;
  for (int i = 0; i < 30; ++i) mx += lx[i] / n, my += ly[i] / n;
  double sxx = 0, sxy = 0;
  for (int i = 0; i < 30; ++i) sxx += (lx[i] - mx) * (lx[i] - mx), sxy += (lx[i] - mx) * (ly[i] - my);
  const double p = sxy / sxx, b0 = my - p * mx;
  double rss = 0, tss = 0;
  for (int i = 0; i < 30; ++i) {
    rss += std::pow(ly[i] - b0 - p * lx[i], 2);
    tss += std::pow(ly[i] - my, 2);
  }
  const double s2 = rss / (n - 2);
  const PowerLawFit f = fit_power_law(x, y);
  EXPECT_NEAR(f.p, p, 1e-12);
  EXPECT_NEAR(f.log_k, b0, 1e-12);
  EXPECT_NEAR(f.se_p, std::sqrt(s2 / sxx), 1e-12);
  EXPECT_NEAR(f.se_log_k, std::sqrt(s2 * (1 / n + mx * mx / sxx)), 1e-12);
  EXPECT_NEAR(f.r2, 1 - rss / tss, 1e-12);
  EXPECT_NEAR(f.se_k, f.k * f.se_log_k, 1e-12);
  // Prediction SE is smallest at the centre of the data, where it is s/sqrt(n).
  EXPECT_NEAR(f.se_log_predict(std::exp(mx)), std::sqrt(s2 / n), 1e-12);
  EXPECT_GT(f.se_log_predict(std::exp(mx + 3)), f.se_log_predict(std::exp(mx)));
  // And the estimate lands near the truth (true p = 0.7; se ≈ 0.005 here).
  EXPECT_NEAR(f.p, 0.7, 4 * f.se_p);
}

TEST(PowerLawRegression, RejectsBadInput) {
  EXPECT_THROW(fit_power_law(std::vector<double>{1.0}, std::vector<double>{1.0}), std::invalid_argument);
  EXPECT_THROW(fit_power_law(std::vector<double>{1.0, 2.0}, std::vector<double>{1.0}), std::invalid_argument);
  EXPECT_THROW(fit_power_law(std::vector<double>{1.0, -2.0}, std::vector<double>{1.0, 2.0}), std::invalid_argument);
  EXPECT_THROW(fit_power_law(std::vector<double>{1.0, 2.0}, std::vector<double>{0.0, 2.0}), std::invalid_argument);
  EXPECT_THROW(fit_power_law(std::vector<double>{1.0, 2.0}, std::vector<double>{NAN, 2.0}), std::invalid_argument);
  EXPECT_THROW(fit_power_law(std::vector<double>{5.0, 5.0, 5.0}, std::vector<double>{1.0, 2.0, 3.0}),
               std::invalid_argument);
}

TEST(PowerLawRegression, QuantileAndSdHelpers) {
  // Type-7 quantiles as in R's default / numpy's "linear".
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({1, 2, 3, 4, 5}, 0.25), 2.0);
  EXPECT_DOUBLE_EQ(quantile({10, 20}, 0.975), 19.75);
  EXPECT_NEAR(sample_sd(std::vector<double>{1, 2, 3, 4}), std::sqrt(5.0 / 3.0), 1e-15);
  EXPECT_TRUE(std::isnan(sample_sd(std::vector<double>{1})));
  // Distinct indices give distinct seeds; the same pair gives the same seed.
  EXPECT_EQ(resample_seed(1, 2), resample_seed(1, 2));
  EXPECT_NE(resample_seed(1, 2), resample_seed(1, 3));
  EXPECT_NE(resample_seed(1, 2), resample_seed(2, 1));
}

TEST(PowerLawRegression, OptimalScalingPredictionsAndJson) {
  std::vector<double> c, n, d;
  for (int i = 0; i < 8; ++i) {
    c.push_back(std::pow(10.0, 18 + i));
    n.push_back(0.1 * std::pow(c.back(), 0.5));
    d.push_back(c.back() / (6 * n.back()));
  }
  const std::vector<double> at{1e24};
  OptimalScaling s = fit_optimal_scaling(c, n, d, at);
  EXPECT_NEAR(s.a.value, 0.5, 1e-12);
  EXPECT_NEAR(s.b.value, 0.5, 1e-12);  // D = C/(6N) ⇒ b = 1 − a exactly
  EXPECT_NEAR(s.k_d.value, 1 / 0.6, 1e-9);
  ASSERT_EQ(s.predictions.size(), 1u);
  EXPECT_NEAR(s.predictions[0].n_opt.value / 1e11, 1.0, 1e-10);
  EXPECT_THROW(fit_optimal_scaling(c, n, d, std::vector<double>{-1.0}), std::invalid_argument);

  std::vector<ScalingDraw> draws{{true, 0.4, 0, 0.6, 0}, {true, 0.6, 0, 0.4, 0}, {false, 9, 9, 9, 9}};
  add_bootstrap(s, draws, 42);
  EXPECT_EQ(s.bootstrap_used, 2);
  EXPECT_EQ(s.bootstrap_requested, 3);
  EXPECT_NEAR(s.a.se, std::sqrt(0.02), 1e-12);
  EXPECT_NEAR(s.a.lo, 0.405, 1e-12);
  EXPECT_NEAR(s.a.hi, 0.595, 1e-12);
  nlohmann::json j;
  write_scaling_json(j, s);
  EXPECT_DOUBLE_EQ(j["a"]["value"].get<double>(), s.a.value);
  EXPECT_DOUBLE_EQ(j["a"]["ci95"][0].get<double>(), 0.405);
  EXPECT_TRUE(j["k_N"].contains("se_analytic"));
  EXPECT_EQ(j["bootstrap"]["seed"].get<uint64_t>(), 42u);
  EXPECT_DOUBLE_EQ(j["predictions"][0]["C"].get<double>(), 1e24);
}
