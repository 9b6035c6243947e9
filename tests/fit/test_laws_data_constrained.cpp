// The data-constrained law of Muennighoff et al. 2023 (arXiv:2305.16264): gradient, parameter
// maps, the published README values, its reduction to Chinchilla, the saturation of effective data
// and recovery of known parameters (including R_D*) from synthetic repeated-epoch runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "scalinglab/fit/data_constrained.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/problem.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/fit/two_stage.h"

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

// ---------------------------------------------------------------------------------------------
// The two-stage procedure of Muennighoff et al. 2023 (fit/two_stage.h).

namespace {

// The paper's fitted law (datablations README, "Parametric Fit"): ln A, ln B, ln E, α, β, R_D*,
// R_N* = 6.255414, 7.3049974, 0.6254804, 0.3526596, 0.3526596, 15.387756, 5.309743. With α = β,
// N_opt(U) = G²·U ≈ U/19.6.
const std::vector<double> kPaper = kPublished;

struct RepeatedDesign {
  bool single = true, multi = true;
  double sigma = 0.003;          // log-normal loss noise: 0.3%, ~0.008 nats at L ≈ 2.5
  double overfit = 0;            // extra log-loss per ln(epochs) on multi-epoch runs (a misspecified law)
  uint64_t seed = 21;
  int single_sizes = 8;          // N values of the single-epoch runs, log-spaced over 1e7..3e9
};

// Single-epoch runs (U = D) over N in 1e7..3e9 at 20 to 640 tokens per parameter (N <= N_opt(D),
// where the law is exactly Chinchilla's); multi-epoch runs over N in 3e7..1e9, U in 1e8..1e10 and
// 2 to 60 epochs, half of them with N > N_opt(U) so that R_N* is tested.
Dataset paper_runs(const RepeatedDesign& design) {
  auto law = make_law("data-constrained");
  auto t = law->to_internal(kPaper);
  NormalStream rng(design.seed);
  Dataset ds;
  ds.source = "synthetic-paper";
  ds.has_n = ds.has_d = ds.has_c = ds.has_u = true;
  long line = 2;
  auto add = [&](double n, double d, double u) {
    double log_l = law->log_predict(t.data(), log_point({n, d, 6 * n * d, 0, 1, 0, u}), nullptr);
    log_l += design.overfit * std::log(d / u) + design.sigma * rng.next();
    ds.runs.push_back({n, d, 6 * n * d, 0, std::exp(log_l), line++, u});
  };
  if (design.single)
    for (int i = 0; i < design.single_sizes; ++i) {
      const double n = 1e7 * std::pow(300.0, i / (design.single_sizes - 1.0));
      for (double ratio : {20.0, 40.0, 80.0, 160.0, 320.0, 640.0}) add(n, n * ratio, n * ratio);
    }
  if (design.multi)
    for (double n : {3e7, 1e8, 3e8, 1e9})
      for (double u : {1e8, 1e9, 1e10})
        for (double epochs : {2.0, 4.0, 8.0, 16.0, 30.0, 45.0, 60.0}) add(n, u * epochs, u);
  return ds;
}

size_t index_of(const FittedLaw& r, const std::string& name) {
  auto it = std::find(r.param_names.begin(), r.param_names.end(), name);
  EXPECT_NE(it, r.param_names.end()) << name;
  return static_cast<size_t>(it - r.param_names.begin());
}

}  // namespace

TEST(DataConstrainedTwoStage, DesignHasRunsOnBothSidesOfNOptAndTheDefaultIsTwoStage) {
  auto law = make_law("data-constrained");
  auto t = law->to_internal(kPaper);
  Dataset ds = paper_runs({});
  int single = 0, above = 0, single_above = 0;
  for (const auto& r : ds.runs) {
    const bool over = std::log(r.n) > DataConstrained::log_n_opt(t.data(), std::log(r.u));
    single += is_single_epoch(r);
    above += over;
    single_above += over && is_single_epoch(r);
  }
  EXPECT_EQ(single, 48);
  EXPECT_EQ(single_above, 0);  // stage 1's Chinchilla base is the true law on these runs
  EXPECT_GE(above, 30);
  FitOptions o;
  o.bootstrap = 0;
  auto f = fit_data_constrained(ds, o);
  EXPECT_EQ(f.procedure, DataConstrainedProcedure::kTwoStage);
  EXPECT_TRUE(f.chosen_by_default);
  EXPECT_EQ(f.single_epoch_runs, 48);
  EXPECT_EQ(f.multi_epoch_runs, 84);
  // Counted at the fitted law's N_opt(U), which moves with the fitted base: near the true count.
  EXPECT_NEAR(f.runs_above_n_opt, above, 10);
  EXPECT_TRUE(f.r_n_star_determined);
}

TEST(DataConstrainedTwoStage, RecoversThePapersRDStarAndRNStarWithPropagatedIntervals) {
  Dataset ds = paper_runs({});
  FitOptions o;
  o.bootstrap = 200;
  o.seed = 3;
  auto f = fit_data_constrained(ds, o);
  ASSERT_EQ(f.procedure, DataConstrainedProcedure::kTwoStage);
  const FittedLaw& r = f.report;
  // A normal fit of the plain 7-parameter law: what predict and plan read.
  EXPECT_EQ(r.law, "data-constrained");
  EXPECT_TRUE(r.law_options.fixed.empty());
  ASSERT_EQ(r.internal_names.size(), 7u);
  ASSERT_EQ(r.params.size(), 7u);
  EXPECT_EQ(r.bootstrap_done, 200);
  for (const auto& th : r.bootstrap_theta) ASSERT_EQ(th.size(), 7u);
  EXPECT_EQ(r.quality.parameters, 7);
  EXPECT_EQ(r.points, 132);
  ASSERT_TRUE(f.stage1 && f.stage2);
  EXPECT_EQ(f.stage1->runs, 48);
  EXPECT_EQ(f.stage2->runs, 132);
  EXPECT_EQ(f.stage2->free, (std::vector<std::string>{"R_D_star", "R_N_star"}));
  EXPECT_LT(f.stage1->quality.rmse_log, 2 * 0.005);  // the base fits its runs to the noise level

  const auto names = kPublished.size();
  ASSERT_EQ(names, 7u);
  const std::vector<std::string> pnames = {"E", "A", "B", "alpha", "beta", "R_D_star", "R_N_star"};
  for (size_t i = 0; i < 7; ++i) {
    const auto& e = r.params[index_of(r, pnames[i])];
    ASSERT_TRUE(e.has_interval()) << pnames[i];
    EXPECT_LE(e.lo, kPaper[i]) << pnames[i] << " " << e.value << " [" << e.lo << ", " << e.hi << "]";
    EXPECT_GE(e.hi, kPaper[i]) << pnames[i] << " " << e.value << " [" << e.lo << ", " << e.hi << "]";
  }
  // Tolerance from the spread. On this design at σ = 0.003, noise seeds 21–24 gave two-stage
  // R_D* 14.95, 15.42, 14.78, 15.75 (errors ≤ 4%; propagated 95% half-widths 4–7%) and R_N* 7.18,
  // 6.16, 6.23, 5.08 (errors ≤ 35%, half-widths 20–35%: R_N* rests on the base's N_opt(U)); every
  // interval held the truth. The bounds are about twice the typical half-width: 8% and 50%.
  const auto& rd = r.params[index_of(r, "R_D_star")];
  const auto& rn = r.params[index_of(r, "R_N_star")];
  EXPECT_NEAR(rd.value / 15.387756, 1.0, 0.08) << rd.value;
  EXPECT_NEAR(rn.value / 5.309743, 1.0, 0.50) << rn.value;
  // Propagation: stage 1's uncertainty widens stage 2's intervals beyond the base-held ones,
  // markedly for R_N* (base-held it is 6.8–7.6 here and misses the truth).
  ASSERT_EQ(f.stage2->base_fixed.size(), 2u);
  EXPECT_GT(rd.hi - rd.lo, f.stage2->base_fixed[0].hi - f.stage2->base_fixed[0].lo);
  EXPECT_GT(rn.hi - rn.lo, 2 * (f.stage2->base_fixed[1].hi - f.stage2->base_fixed[1].lo));
  // Stage 1's estimates are the final report's base parameters.
  ASSERT_EQ(f.stage1->free.size(), 5u);
  EXPECT_EQ(f.stage1->estimates[3].value, r.params[index_of(r, "alpha")].value);
}

TEST(DataConstrainedTwoStage, DefaultIsTwoStageOnlyWhenBothKindsOfRunExistAndJointOverrides) {
  FitOptions o;
  o.bootstrap = 0;
  const Dataset both = paper_runs({});
  RepeatedDesign only_multi, only_single;
  only_multi.single = false;
  only_single.multi = false;
  auto f = fit_data_constrained(both, o);
  EXPECT_EQ(f.procedure, DataConstrainedProcedure::kTwoStage);
  f = fit_data_constrained(paper_runs(only_multi), o);
  EXPECT_EQ(f.procedure, DataConstrainedProcedure::kJoint);
  EXPECT_TRUE(f.chosen_by_default);
  EXPECT_NE(f.reason.find("no single-epoch run"), std::string::npos) << f.reason;
  EXPECT_FALSE(f.stage1.has_value());
  f = fit_data_constrained(paper_runs(only_single), o);
  EXPECT_EQ(f.procedure, DataConstrainedProcedure::kJoint);
  EXPECT_NE(f.reason.find("no run repeats data"), std::string::npos) << f.reason;

  // Asked for: joint overrides the default, and is fit::fit of the plain law, bit for bit.
  f = fit_data_constrained(both, o, {DataConstrainedProcedure::kJoint, {}});
  EXPECT_EQ(f.procedure, DataConstrainedProcedure::kJoint);
  EXPECT_FALSE(f.chosen_by_default);
  FittedLaw joint = fit(*make_law("data-constrained"), both, o);
  EXPECT_EQ(f.report.theta, joint.theta);

  // Two-stage asked for without enough single-epoch runs for the base law: an error naming the field.
  Dataset few = paper_runs(only_multi);
  for (int i = 0; i < 3; ++i) few.runs.push_back(both.runs[static_cast<size_t>(i)]);
  try {
    fit_data_constrained(few, o, {DataConstrainedProcedure::kTwoStage, {}});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("procedure: two-stage needs more single-epoch runs", 0), 0u) << e.what();
  }
  // With three single-epoch runs the default falls back to joint and says why.
  f = fit_data_constrained(few, o);
  EXPECT_EQ(f.procedure, DataConstrainedProcedure::kJoint);
  EXPECT_NE(f.reason.find("too few single-epoch runs"), std::string::npos) << f.reason;
  // So it does with many single-epoch runs at only two token counts (E and B/D^β trade freely);
  // asked for, two-stage runs and warns.
  Dataset two_d = paper_runs(only_multi);
  for (const auto& r : both.runs)
    if (is_single_epoch(r) && (std::fabs(r.d / r.n - 20) < 1e-6 || std::fabs(r.d / r.n - 640) < 1e-6)) {
      scalinglab::fit::Run s = r;
      s.d = s.u = r.d / r.n < 100 ? 1e10 : 1e11;  // two D values, many N
      two_d.runs.push_back(s);
    }
  f = fit_data_constrained(two_d, o);
  EXPECT_EQ(f.procedure, DataConstrainedProcedure::kJoint);
  EXPECT_NE(f.reason.find("8 distinct N and 2 distinct D values"), std::string::npos) << f.reason;
  f = fit_data_constrained(two_d, o, {DataConstrainedProcedure::kTwoStage, {}});
  EXPECT_EQ(f.procedure, DataConstrainedProcedure::kTwoStage);
  bool warned = false;
  for (const auto& w : f.report.warnings) warned |= w.find("the base law is not determined by them") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(DataConstrainedTwoStage, IsTheBaseFromSingleEpochRunsThenTheDecayWhereJointTradesTheBase) {
  // Noise-free runs whose multi-epoch ones lose a little more than the law says (0.01 log-loss
  // per e-fold of epochs, as overfitting would): the joint fit bends the base law to absorb it,
  // the two-stage procedure keeps the base of the single-epoch runs, which here is the true base.
  // (With noise, the base from single-epoch runs alone is the less precise one: the price of not
  // letting multi-epoch runs move it.)
  RepeatedDesign d;
  d.overfit = 0.01;
  d.sigma = 0;
  const Dataset ds = paper_runs(d);
  FitOptions o;
  o.bootstrap = 0;
  auto two = fit_data_constrained(ds, o);
  ASSERT_EQ(two.procedure, DataConstrainedProcedure::kTwoStage);
  auto joint = fit_data_constrained(ds, o, {DataConstrainedProcedure::kJoint, {}});

  // Stage 1 is an independent Chinchilla fit of the single-epoch runs alone.
  Dataset single = ds;
  single.runs.clear();
  for (const auto& r : ds.runs)
    if (is_single_epoch(r)) single.runs.push_back(r);
  FittedLaw base = fit(*make_law("chinchilla"), single, o);
  for (const char* name : {"E", "A", "B", "alpha", "beta"})
    EXPECT_NEAR(two.report.params[index_of(two.report, name)].value, base.params[index_of(base, name)].value,
                1e-9 * std::fabs(base.params[index_of(base, name)].value))
        << name;
  // Stage 2 is a fit of R_D*, R_N* with that base held (the --fix route of the issue, done by hand).
  auto held = make_law("data-constrained", {false, {{"E", base.params[0].value}, {"A", base.params[1].value},
                                                    {"B", base.params[2].value}, {"alpha", base.params[3].value},
                                                    {"beta", base.params[4].value}}});
  FittedLaw by_hand = fit(*held, ds, o);
  EXPECT_NEAR(two.report.params[5].value, by_hand.params[5].value, 1e-4 * by_hand.params[5].value);
  EXPECT_NEAR(two.report.params[6].value, by_hand.params[6].value, 1e-4 * by_hand.params[6].value);

  // The joint fit bends the base towards the overfitting multi-epoch runs: its β moves further
  // from the truth than the single-epoch base's, and its R_D* differs from two-stage's.
  const double beta_true = kPaper[4];
  const double beta_joint = joint.report.params[4].value, beta_two = two.report.params[4].value;
  EXPECT_NEAR(beta_two, beta_true, 1e-3);
  EXPECT_GT(std::fabs(beta_joint - beta_true), 0.005)
      << "beta joint " << beta_joint << " two-stage " << beta_two;
  const double rd_joint = joint.report.params[5].value, rd_two = two.report.params[5].value;
  EXPECT_GT(std::fabs(rd_joint / rd_two - 1), 0.1) << "R_D* joint " << rd_joint << " two-stage " << rd_two;
  // The two-stage base predicts the single-epoch runs at least as well as the joint one.
  EXPECT_LE(two.stage1->quality.rmse_log, 1.0001 * base.quality.rmse_log);
}

TEST(DataConstrainedTwoStage, NoRunAboveNOptLeavesRNStarUndeterminedAndSaysSo) {
  // Small models only: every run has N <= N_opt(U), so R_N* has no effect on any prediction.
  auto law = make_law("data-constrained");
  auto t = law->to_internal(kPaper);
  NormalStream rng(5);
  Dataset ds;
  ds.source = "small-models";
  ds.has_n = ds.has_d = ds.has_c = ds.has_u = true;
  long line = 2;
  auto add = [&](double n, double d, double u) {
    const double l = std::exp(law->log_predict(t.data(), log_point({n, d, 0, 0, 1, 0, u}), nullptr) + 0.003 * rng.next());
    ds.runs.push_back({n, d, 6 * n * d, 0, l, line++, u});
  };
  for (double n : {3e6, 1e7, 2e7})
    for (double u : {1e9, 3e9, 1e10}) {
      add(n, u / 2, u / 2);  // single-epoch runs at two sizes
      add(n, u, u);
      for (double epochs : {2.0, 5.0, 15.0, 40.0}) add(n, u * epochs, u);
    }
  for (const auto& r : ds.runs) ASSERT_LT(std::log(r.n), DataConstrained::log_n_opt(t.data(), std::log(r.u)));
  FitOptions o;
  o.bootstrap = 8;
  auto f = fit_data_constrained(ds, o);
  ASSERT_EQ(f.procedure, DataConstrainedProcedure::kTwoStage);
  EXPECT_EQ(f.runs_above_n_opt, 0);
  EXPECT_FALSE(f.r_n_star_determined);
  bool warned = false;
  for (const auto& w : f.report.warnings) warned |= w.find("ln_R_N_star has no effect") != std::string::npos;
  EXPECT_TRUE(warned);
  auto j = to_json(f);
  EXPECT_EQ(j["procedure"]["R_N_star_determined"], false);
  EXPECT_EQ(j["procedure"]["runs_above_n_opt"], 0);
  EXPECT_EQ(j["procedure"]["name"], "two-stage");
}

// The measurement behind the recovery test's tolerances (not run by default):
//   build/tests/test_fit --gtest_also_run_disabled_tests --gtest_filter='*SpreadOverNoiseSeeds'
TEST(DataConstrainedTwoStage, DISABLED_SpreadOverNoiseSeeds) {
  for (uint64_t seed : {21u, 22u, 23u, 24u}) {
    RepeatedDesign d;
    d.seed = seed;
    FitOptions o;
    o.bootstrap = 200;
    o.seed = 3;
    for (auto p : {DataConstrainedProcedure::kTwoStage, DataConstrainedProcedure::kJoint}) {
      auto f = fit_data_constrained(paper_runs(d), o, {p, {}});
      std::cout << "noise seed " << seed << " " << procedure_name(f.procedure);
      for (size_t i = 0; i < 7; ++i)
        std::cout << " " << f.report.param_names[i] << " " << f.report.params[i].value << " [" << f.report.params[i].lo
                  << ", " << f.report.params[i].hi << "]";
      if (f.stage2)
        for (size_t i = 0; i < 2; ++i)
          std::cout << " | " << f.stage2->free[i] << " base held [" << f.stage2->base_fixed[i].lo << ", "
                    << f.stage2->base_fixed[i].hi << "]";
      std::cout << "\n";
    }
  }
}
