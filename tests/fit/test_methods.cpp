// Variable projection against multi-start L-BFGS; the Kaplan and generic laws on their own data;
// the leave-out extrapolation check.
#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/nnls.h"
#include "scalinglab/fit/problem.h"
#include "scalinglab/fit/varpro.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/io/table.h"

using namespace scalinglab::fit;

namespace {
Dataset grid_data(double noise, uint64_t seed) {
  SyntheticDesign d;
  d.kind = SyntheticDesign::Kind::kGrid;
  d.n_count = 10;
  d.tokens_per_param = {4, 10, 25, 60, 150};
  d.noise = noise;
  d.seed = seed;
  return make_synthetic(ChinchillaParams{}, d);
}
}  // namespace

TEST(Nnls, MatchesUnconstrainedSolutionWhenFeasibleAndClampsOtherwise) {
  Eigen::MatrixXd phi(4, 2);
  phi << 1, 0, 1, 1, 1, 2, 1, 3;
  Eigen::VectorXd y(4);
  y << 1, 3, 5, 7;  // y = 1 + 2x exactly
  auto r = nnls(phi, y, Eigen::VectorXd());
  EXPECT_NEAR(r.coefficients[0], 1, 1e-12);
  EXPECT_NEAR(r.coefficients[1], 2, 1e-12);
  y << 7, 5, 3, 1;  // y = 7 − 2x: the slope must clamp to 0 and the intercept become the mean
  r = nnls(phi, y, Eigen::VectorXd());
  EXPECT_EQ(r.coefficients[1], 0);
  EXPECT_NEAR(r.coefficients[0], 4, 1e-12);
}

TEST(Methods, VarProAndLbfgsAgreeOnNoiseFreeData) {
  auto law = make_law("chinchilla");
  Dataset data = grid_data(0, 1);
  FitOptions o;
  o.bootstrap = 0;
  FittedLaw lb = fit(*law, data, o);
  o.method = Method::kVarPro;
  FittedLaw vp = fit(*law, data, o);
  for (size_t i = 0; i < 5; ++i) EXPECT_NEAR(vp.params[i].value / lb.params[i].value, 1, 1e-4) << lb.param_names[i];
}

TEST(Methods, VarProAndLbfgsAgreeWithinNoiseOnNoisyData) {
  // The two minimise different losses (squared relative error vs Huber on log loss), so on noisy
  // data they agree to within the estimates' own uncertainty, not exactly.
  auto law = make_law("chinchilla");
  Dataset data = grid_data(0.015, 4);
  FitOptions o;
  o.bootstrap = 100;
  FittedLaw lb = fit(*law, data, o);
  o.method = Method::kVarPro;
  FittedLaw vp = fit(*law, data, o);
  for (size_t i : {3u, 4u}) {
    double se = std::max(lb.params[i].se, vp.params[i].se);
    EXPECT_NEAR(vp.params[i].value, lb.params[i].value, 3 * se) << lb.param_names[i];
    EXPECT_NEAR(vp.params[i].value, i == 3 ? 0.34 : 0.28, 0.06);
  }
  EXPECT_GT(vp.params[3].se, 0.002);
}

TEST(Methods, KaplanSingleVariableLawsRecoverTheirExponents) {
  // L(N) = (N_c/N)^α_N with Kaplan's constants, 1% noise over 3 orders of magnitude.
  NormalStream noise(3);
  Dataset ds;
  ds.source = "kaplan";
  ds.has_n = true;
  for (int i = 0; i < 30; ++i) {
    double n = std::pow(10.0, 6 + 3.0 * i / 29);
    ds.runs.push_back({n, 0, 0, 0, std::pow(8.8e13 / n, 0.076) * std::exp(0.01 * noise.next()), i + 2L});
  }
  FitOptions o;
  o.bootstrap = 200;
  FittedLaw r = fit(*make_law("kaplan-n"), ds, o);
  EXPECT_NEAR(r.params[1].value, 0.076, 0.006);  // α_N; SE at this noise is ~0.002
  EXPECT_NEAR(std::log10(r.params[0].value), std::log10(8.8e13), 1.0);
  EXPECT_LE(r.params[1].lo, 0.076);
  EXPECT_GE(r.params[1].hi, 0.076);
}

TEST(Methods, PowerLawWithIrreducibleTermOnAnyColumn) {
  Dataset ds;
  ds.source = "power";
  ds.has_x = true;
  for (int i = 0; i < 25; ++i) {
    double x = std::pow(10.0, 1 + 4.0 * i / 24);
    ds.runs.push_back({0, 0, 0, x, 0.5 + 3.0 * std::pow(x, -0.4), i + 2L});
  }
  FitOptions o;
  o.bootstrap = 0;
  FittedLaw r = fit(*make_law("power"), ds, o);
  EXPECT_NEAR(r.params[0].value, 0.5, 1e-4);
  EXPECT_NEAR(r.params[1].value, 3.0, 1e-3);
  EXPECT_NEAR(r.params[2].value, 0.4, 1e-4);
}

TEST(Methods, KaplanNDRecoversItsOwnLaw) {
  Dataset ds;
  ds.source = "kaplan-nd";
  ds.has_n = ds.has_d = ds.has_c = true;
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) {
      double n = std::pow(10.0, 6 + 0.6 * i), d = std::pow(10.0, 7 + 0.6 * j);
      double l = std::pow(std::pow(6.4e13 / n, 0.076 / 0.103) + 1.8e13 / d, 0.103);
      ds.runs.push_back({n, d, 6 * n * d, 0, l, i * 6 + j + 2L});
    }
  FitOptions o;
  o.bootstrap = 0;
  FittedLaw r = fit(*make_law("kaplan-nd"), ds, o);
  EXPECT_NEAR(r.params[2].value, 0.076, 1e-3);
  EXPECT_NEAR(r.params[3].value, 0.103, 1e-3);
  EXPECT_LT(r.quality.rmse_log, 1e-5);
}

TEST(Methods, AicPrefersTheTrueLawOverASimplerOne) {
  // Data with an irreducible term: kaplan-n with E must beat the pure power law on AIC/BIC.
  Dataset ds;
  ds.source = "e";
  ds.has_n = true;
  NormalStream noise(8);
  for (int i = 0; i < 30; ++i) {
    double n = std::pow(10.0, 6 + 3.0 * i / 29);
    ds.runs.push_back({n, 0, 0, 0, (1.7 + std::pow(1e10 / n, 0.3)) * std::exp(0.005 * noise.next()), i + 2L});
  }
  FitOptions o;
  o.bootstrap = 0;
  FittedLaw plain = fit(*make_law("kaplan-n", {false}), ds, o);
  FittedLaw with_e = fit(*make_law("kaplan-n", {true}), ds, o);
  EXPECT_LT(with_e.quality.aic, plain.quality.aic - 10);
  EXPECT_LT(with_e.quality.bic, plain.quality.bic - 10);
  // E is the weakest-determined parameter (its effect is confounded with the exponent over 3
  // decades); 0.1 is ~2 SE at this noise level.
  EXPECT_NEAR(with_e.params[0].value, 1.7, 0.1);
}

TEST(Methods, HoldoutPredictsTheLargestBudgetsAndWarnsFarOut) {
  SyntheticDesign d;
  d.c_min = 1e17;
  d.c_max = 1e21;
  d.budgets = 9;
  d.per_budget = 7;
  d.noise = 0.01;
  d.seed = 5;
  Dataset data = make_synthetic(ChinchillaParams{}, d);
  FitOptions o;
  o.bootstrap = 100;
  o.holdout_top_compute = 7;
  o.at_compute = {1e22, 1e24};
  FittedLaw r = fit(*make_law("chinchilla"), data, o);
  ASSERT_TRUE(r.holdout.has_value());
  EXPECT_EQ(r.holdout->train_points, 56);
  ASSERT_EQ(r.holdout->rows.size(), 7u);
  EXPECT_NEAR(r.holdout->rows[0].c, 1e21, 1e12);
  // Extrapolating one budget (0.5 orders of magnitude) with 1% noise: errors of a few percent.
  EXPECT_LT(r.holdout->mean_abs_rel_error, 0.03);
  // Prediction intervals for single runs include the 1% scatter, so nearly all held-out runs
  // land inside them, and they are wider than the law's own interval.
  int inside = 0;
  for (const auto& h : r.holdout->rows) {
    inside += h.inside_pi95 ? 1 : 0;
    EXPECT_GT(h.pi95.hi - h.pi95.lo, h.predicted.hi - h.predicted.lo);
  }
  EXPECT_GE(inside, 5);
  // 1e24 is 3 orders past the data: warned; 1e22 (1 order) is not.
  int warned = 0;
  for (const auto& w : r.warnings) warned += w.find("1e+24") != std::string::npos ? 1 : 0;
  EXPECT_EQ(warned, 1);
  EXPECT_NEAR(r.at_compute[1].orders_past_data, 3, 1e-9);
}

TEST(Methods, VarProReachesTheHuberOptimumOfLbfgs) {
  // --method varpro reports the stated objective (Σ Huber of log residuals); its exponent search
  // minimises relative least squares, so without the final Huber solve it stops at a worse value
  // (issue 14: 0.001085 vs 0.001018 on Chinchilla's points). Compared with the 4,500-start grid
  // on the bundled example and on a Chinchilla-Fig.-4-like set (9 budgets, outliers).
  auto law = make_law("chinchilla");
  std::vector<Dataset> sets;
  sets.push_back(load_runs(scalinglab::io::read_table(std::string(SCALINGLAB_TEST_DATA_DIR) +
                                                      "/../../data/examples/chinchilla_synthetic.csv"),
                           {}));
  SyntheticDesign fig4;
  fig4.c_min = 6e18;
  fig4.c_max = 3e21;
  fig4.budgets = 9;
  fig4.per_budget = 12;
  fig4.noise = 0.015;
  fig4.seed = 77;
  Dataset published_like = make_synthetic(ChinchillaParams{1.8172, 482.01, 2085.43, 0.3478, 0.3658}, fig4);
  for (size_t i = 0; i < published_like.runs.size(); i += 23) published_like.runs[i].loss *= 1.1;
  sets.push_back(published_like);
  for (const Dataset& data : sets) {
    FitOptions o;
    o.bootstrap = 0;
    FittedLaw lb = fit(*law, data, o);
    o.method = Method::kVarPro;
    FittedLaw vp = fit(*law, data, o);
    EXPECT_NEAR(vp.objective / lb.objective, 1, 1e-8) << data.source;
    for (size_t j : {3u, 4u}) EXPECT_NEAR(vp.params[j].value, lb.params[j].value, 1e-4) << lb.param_names[j];
    EXPECT_EQ(vp.status, "converged") << vp.status_detail;
    // The relative-least-squares optimum alone is measurably worse on the Huber objective: the
    // polish is what closes the gap (if this fails, the test above no longer tests the polish).
    Problem p = make_problem(*law, data);
    VarProOptions raw;
    raw.polish = false;
    EXPECT_GT(fit_varpro(*law, p, nullptr, 1e-3, raw).objective, lb.objective * (1 + 1e-4));
  }
}
