// The data-constrained law of Muennighoff et al. 2023 (arXiv:2305.16264): gradient, parameter
// maps, the published README values, its reduction to Chinchilla, the saturation of effective data
// and recovery of known parameters (including R_D*) from synthetic repeated-epoch runs.
#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/fit/data_constrained.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/problem.h"
#include "scalinglab/fit/synthetic.h"

using namespace scalinglab::fit;

namespace {

// Muennighoff et al.'s fitted values (repo huggingface/datablations, README "Parametric Fit"):
// ln A, ln B, ln E, α, β, R_D*, R_N*.
const std::vector<double> kPublished = {std::exp(0.6254804), std::exp(6.255414), std::exp(7.3049974), 0.3526596,
                                        0.3526596, 15.387756, 5.309743};

double predict(const Law& law, const std::vector<double>& theta, double n, double d, double u) {
  Run r{n, d, 6 * n * d, 0, 1, 0, u};
  return std::exp(law.log_predict(theta.data(), log_point(r), nullptr));
}

void expect_gradient_matches(const Law& law, const std::vector<double>& t, const LogPoint& p, const std::string& what) {
  std::vector<double> g(law.dim());
  law.log_predict(t.data(), p, g.data());
  for (size_t j = 0; j < law.dim(); ++j) {
    const double h = 1e-6;
    auto tp = t, tm = t;
    tp[j] += h;
    tm[j] -= h;
    double fd = (law.log_predict(tp.data(), p, nullptr) - law.log_predict(tm.data(), p, nullptr)) / (2 * h);
    EXPECT_NEAR(g[j], fd, 2e-6 * std::max(1.0, std::fabs(fd))) << what << " param " << law.internal_names()[j];
  }
}

}  // namespace

TEST(DataConstrained, AnalyticGradientMatchesFiniteDifferencesAtRandomPoints) {
  auto law = make_law("data-constrained");
  ASSERT_EQ(law->dim(), 7u);
  NormalStream rng(7);
  int above = 0, below = 0;
  for (int trial = 0; trial < 40; ++trial) {
    auto uni = [&](double lo, double hi) { return lo + (hi - lo) * rng.uniform(); };
    std::vector<double> t{uni(3, 8), uni(3, 9), uni(0.2, 0.9), uni(0.25, 0.5), uni(0.25, 0.5), uni(0.5, 4), uni(0.5, 3)};
    const double n = std::pow(10.0, uni(7, 10.5)), u = std::pow(10.0, uni(8, 11)), epochs = std::pow(10.0, uni(0, 2));
    LogPoint p = log_point({n, u * epochs, 0, 0, 1, 0, u});
    // Both branches of U_N = min(N, N_opt(U)) must be exercised.
    (p.n > DataConstrained::log_n_opt(t.data(), p.u) ? above : below)++;
    expect_gradient_matches(*law, t, p, "trial " + std::to_string(trial));
  }
  EXPECT_GT(above, 5);
  EXPECT_GT(below, 5);
  // No repetition at all (U = D): R_D = 0, where e^(−R/R*) is evaluated at its edge.
  auto t = law->to_internal(kPublished);
  expect_gradient_matches(*law, t, log_point({1e8, 1e10, 0, 0, 1, 0, 1e10}), "U = D");
}

TEST(DataConstrained, PublicParametersRoundTripWithThePlannersNames) {
  auto law = make_law("data-constrained");
  EXPECT_EQ(law->param_names(),
            (std::vector<std::string>{"E", "A", "B", "alpha", "beta", "R_D_star", "R_N_star"}));
  auto back = law->to_public(law->to_internal(kPublished).data());
  for (size_t i = 0; i < kPublished.size(); ++i) EXPECT_NEAR(back[i], kPublished[i], 1e-12 * kPublished[i]);
}

TEST(DataConstrained, ReproducesThePublishedReadmeValues) {
  // datablations README: scaling_law(6.34e9, 242e9, 25e9) = 2.2256 and
  // scaling_law(8.67e9, 178e9, 25e9) = 2.2270 (4 decimals as printed there).
  auto law = make_law("data-constrained");
  auto t = law->to_internal(kPublished);
  EXPECT_NEAR(predict(*law, t, 6.34e9, 242e9, 25e9), 2.2256, 5e-5);
  EXPECT_NEAR(predict(*law, t, 8.67e9, 178e9, 25e9), 2.2270, 5e-5);
  // Both models exceed N_opt(25e9 unique tokens): the parameter decay is active in those checks.
  EXPECT_LT(DataConstrained::log_n_opt(t.data(), std::log(25e9)), std::log(6.34e9));
}

TEST(DataConstrained, ReducesToChinchillaWithoutRepetition) {
  auto dc = make_law("data-constrained");
  auto ch = make_law("chinchilla");
  auto t = dc->to_internal(kPublished);
  auto tc = ch->to_internal({kPublished[0], kPublished[1], kPublished[2], kPublished[3], kPublished[4]});
  int compared = 0;
  for (double n : {1e7, 3e7, 1e8, 3e8, 1e9})
    for (double d : {1e9, 1e10, 1e11, 1e12}) {
      LogPoint p = log_point({n, d, 6 * n * d, 0, 1, 0, d});  // U = D: every token is unique
      if (p.n <= DataConstrained::log_n_opt(t.data(), p.u)) {
        // N within what the unique data can use: exactly Chinchilla, bit for bit.
        EXPECT_EQ(dc->log_predict(t.data(), p, nullptr), ch->log_predict(tc.data(), p, nullptr)) << n << " " << d;
        ++compared;
      } else {
        // More parameters than N_opt(D): the paper lets the excess decay even at one epoch.
        EXPECT_GT(dc->log_predict(t.data(), p, nullptr), ch->log_predict(tc.data(), p, nullptr));
      }
    }
  EXPECT_GE(compared, 10);
  // With R_N* → ∞ no parameter decays: Chinchilla everywhere.
  auto pub = kPublished;
  pub[6] = 1e12;
  auto t_inf = dc->to_internal(pub);
  for (double n : {1e8, 1e9, 1e10}) {
    LogPoint p = log_point({n, 1e10, 6e10 * n, 0, 1, 0, 1e10});
    EXPECT_NEAR(dc->log_predict(t_inf.data(), p, nullptr), ch->log_predict(tc.data(), p, nullptr), 1e-9);
  }
}

TEST(DataConstrained, EffectiveDataSaturatesAtUTimesOnePlusRDStar) {
  const double u = 25e9, rstar = 15.387756;
  // Closed form: D' → U·(1 + R_D*) as the repetitions R_D → ∞.
  EXPECT_NEAR(effective_count(u, u * 1e6, rstar), u * (1 + rstar), 1e-12 * u * (1 + rstar));
  EXPECT_LT(effective_count(u, u * 40, rstar), u * (1 + rstar));
  // A few epochs are worth almost as much as new data (Muennighoff et al.: up to ~4 epochs the
  // loss changes negligibly): first order D' = D − R²/(2R*)·U.
  EXPECT_NEAR(effective_count(u, 1.01 * u, rstar), 1.01 * u, 1e-5 * u);
  EXPECT_NEAR(effective_count(u, 4 * u, rstar) / (4 * u), 1 - 9.0 / (2 * rstar * 4), 0.02);
  // The log form used by the law agrees with the plain one.
  EXPECT_NEAR(effective_log(std::log(u), std::log(7 * u), std::log(rstar)).value,
              std::log(effective_count(u, 7 * u, rstar)), 1e-12);
  // And the law's loss at absurd repetition is E + A/N^α + B/(U(1 + R_D*))^β for a small model.
  auto law = make_law("data-constrained");
  auto t = law->to_internal(kPublished);
  const double n = 1e8;  // below N_opt(25e9): N' = N
  const double expect = kPublished[0] + kPublished[1] / std::pow(n, kPublished[3]) +
                        kPublished[2] / std::pow(u * (1 + rstar), kPublished[4]);
  EXPECT_NEAR(predict(*law, t, n, u * 1e7, u), expect, 1e-9);
}

namespace {

// Runs over N, U and epochs 1..40 from known parameters with log-normal noise σ.
Dataset repeated_epoch_runs(const Law& law, const std::vector<double>& truth, double sigma, bool excess_params) {
  auto t = law.to_internal(truth);
  NormalStream rng(11);
  Dataset ds;
  ds.source = "synthetic-dc";
  ds.has_n = ds.has_d = ds.has_c = ds.has_u = true;
  long line = 2;
  const std::vector<double> ns = excess_params ? std::vector<double>{1e7, 3e7, 1e8, 3e8, 1e9}
                                               : std::vector<double>{3e6, 6e6, 1.2e7};
  for (double n : ns)
    for (double u : {3e8, 1e9, 3e9, 1e10})
      for (double epochs : {1.0, 2.0, 4.0, 8.0, 16.0, 40.0}) {
        const double d = u * epochs;
        const double l = predict(law, t, n, d, u) * std::exp(sigma * rng.next());
        ds.runs.push_back({n, d, 6 * n * d, 0, l, line++, u});
      }
  return ds;
}

}  // namespace

TEST(DataConstrained, RecoversKnownParametersFromRepeatedEpochRuns) {
  auto law = make_law("data-constrained");
  // Chinchilla-like base (Hoffmann et al. 2022 eq. 10) with Muennighoff et al.'s decay constants.
  const std::vector<double> truth{1.69, 406.4, 410.7, 0.34, 0.28, 15.4, 5.3};
  Dataset ds = repeated_epoch_runs(*law, truth, 0.003, true);
  FitOptions o;
  o.bootstrap = 0;
  FittedLaw r = fit(*law, ds, o);
  ASSERT_EQ(r.params.size(), 7u);
  EXPECT_LT(r.quality.rmse_log, 0.005);
  EXPECT_NEAR(r.params[5].value / 15.4, 1.0, 0.15) << "R_D_star " << r.params[5].value;
  EXPECT_NEAR(r.params[6].value / 5.3, 1.0, 0.25) << "R_N_star " << r.params[6].value;
  EXPECT_NEAR(r.params[0].value, 1.69, 0.1) << "E";
  EXPECT_NEAR(r.params[3].value, 0.34, 0.04) << "alpha";
  EXPECT_NEAR(r.params[4].value, 0.28, 0.03) << "beta";
  for (const auto& w : r.warnings) EXPECT_EQ(w.find("do not determine"), std::string::npos) << w;
}

TEST(DataConstrained, UnidentifiedRNStarIsReportedAndCanBeHeldAtThePublishedValue) {
  auto law = make_law("data-constrained");
  const std::vector<double> truth{1.69, 406.4, 410.7, 0.34, 0.28, 15.4, 5.3};
  // Small models only: no run has more parameters than N_opt(U), so R_N* changes nothing.
  Dataset ds = repeated_epoch_runs(*law, truth, 0.003, false);
  auto t = law->to_internal(truth);
  for (const auto& r : ds.runs) ASSERT_LT(std::log(r.n), DataConstrained::log_n_opt(t.data(), std::log(r.u)));
  FitOptions o;
  o.bootstrap = 8;
  FittedLaw free_fit = fit(*law, ds, o);
  bool warned = false;
  for (const auto& w : free_fit.warnings) warned |= w.find("ln_R_N_star has no effect") != std::string::npos;
  EXPECT_TRUE(warned);

  auto fixed = make_law("data-constrained", {false, {{"R_N_star", 5.309}}});
  EXPECT_EQ(fixed->dim(), 6u);
  EXPECT_EQ(fixed->param_names().size(), 7u);
  FittedLaw r = fit(*fixed, ds, o);
  EXPECT_DOUBLE_EQ(r.params[6].value, 5.309);
  EXPECT_DOUBLE_EQ(r.params[6].lo, 5.309);  // a fixed parameter has no spread
  EXPECT_NEAR(r.params[5].value / 15.4, 1.0, 0.2) << "R_D_star " << r.params[5].value;
  for (const auto& w : r.warnings) EXPECT_EQ(w.find("do not determine"), std::string::npos) << w;
  ASSERT_EQ(r.law_options.fixed.size(), 1u);
  EXPECT_EQ(r.law_options.fixed[0].first, "R_N_star");
}

TEST(DataConstrained, FixingRejectsUnknownAndCompositeParameters) {
  EXPECT_THROW(make_law("data-constrained", {false, {{"R_star", 5.0}}}), std::invalid_argument);
  EXPECT_THROW(make_law("data-constrained", {false, {{"R_N_star", -1.0}}}), std::invalid_argument);
  // Kaplan's N_c = e^(a/α) depends on two internal parameters.
  EXPECT_THROW(make_law("kaplan-n", {false, {{"N_c", 8.8e13}}}), std::invalid_argument);
  auto k = make_law("kaplan-n", {false, {{"alpha_N", 0.076}}});
  EXPECT_EQ(k->dim(), 1u);
  // The wrapper's gradient is the inner one restricted to the free coordinates.
  auto fixed = make_law("data-constrained", {false, {{"alpha", 0.34}, {"R_N_star", 5.3}}});
  auto th = fixed->to_internal({1.69, 406.4, 410.7, 0.34, 0.28, 15.4, 5.3});
  ASSERT_EQ(th.size(), 5u);
  expect_gradient_matches(*fixed, th, log_point({1e9, 4e10, 0, 0, 1, 0, 1e9}), "fixed");
}

TEST(DataConstrained, PredictionPointsMustCarryUniqueTokens) {
  auto law = make_law("data-constrained");
  const std::vector<double> truth{1.69, 406.4, 410.7, 0.34, 0.28, 15.4, 5.3};
  Dataset ds = repeated_epoch_runs(*law, truth, 0.0, false);
  FitOptions o;
  o.bootstrap = 0;
  o.at_points = {scalinglab::fit::Run{1e9, 1e11, 6e20, 0, 1, 0}};  // no U: would silently mean U = 1 token
  try {
    fit(*law, ds, o);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("lacks U"), std::string::npos) << e.what();
  }
}
