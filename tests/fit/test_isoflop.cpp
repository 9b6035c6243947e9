#include "scalinglab/fit/isoflop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "chinchilla_synth.h"

using namespace scalinglab::fit;
// gtest fixtures have a member Run(); name the data type unambiguously.
using FitRun = scalinglab::fit::Run;

namespace {

const std::vector<double> kBudgets{1e18, 3e18, 1e19, 3e19, 1e20, 3e20, 1e21};

// An IsoFLOP grid as in Hoffmann et al. §3.2: per budget, `sizes` model sizes log-spaced over
// ln N_opt + offset ± half_width, each trained for D = C/(6N); loss times exp(noise·z), z ~ N(0,1).
std::vector<FitRun> isoflop_grid(double half_width, int sizes, double noise, uint64_t seed,
                              double offset_small = 0, double offset_large = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<FitRun> runs;
  for (size_t b = 0; b < kBudgets.size(); ++b) {
    const double c = kBudgets[b];
    // Offset varies linearly from the smallest to the largest budget (0 and 0 = centred grids).
    const double off = offset_small + (offset_large - offset_small) * b / (kBudgets.size() - 1.0);
    for (int j = 0; j < sizes; ++j) {
      const double delta = off - half_width + 2 * half_width * j / (sizes - 1.0);
      const double n = chinchilla::n_opt(c) * std::exp(delta);
      const double d = c / (6 * n);
      runs.push_back(FitRun{n, d, c, 0, chinchilla::loss(n, d) * std::exp(noise * z(rng)), 0});
    }
  }
  return runs;
}

}  // namespace

TEST(Isoflop, NoiseFreeCentredGridsRecoverExponentsExactly) {
  // For L = E + A/N^α + B/D^β at fixed C, L − E as a function of δ = ln N − ln N_opt(C) is
  // K(C)·(e^{−αδ} + (α/β)·e^{βδ}) — the same shape for every C, only scaled. A least-squares
  // parabola on the same δ-grid therefore has its vertex at the same (biased) δ* for every
  // budget: ln N̂_opt = ln N_opt + δ*, so the slope a is exact and only k_N carries the bias.
  IsoflopOptions opt;
  opt.bootstrap = 0;
  const auto r = fit_isoflop(isoflop_grid(std::log(4.0), 9, 0, 1), opt);
  ASSERT_EQ(r.budgets.size(), kBudgets.size());
  for (const auto& b : r.budgets) EXPECT_EQ(b.skipped, SkipReason::kNone) << b.reason;
  EXPECT_NEAR(r.scaling.a.value, chinchilla::kA_exp, 1e-9);
  EXPECT_NEAR(r.scaling.b.value, chinchilla::kB_exp, 1e-9);
  EXPECT_EQ(r.points_used, 9 * kBudgets.size());
  // The vertex bias δ*: the profile rises faster towards small N (α > β), so the parabola's
  // vertex sits at a slightly larger N than the truth; for a ±ln 4 grid it is a few percent.
  const double ratio = r.scaling.k_n.value * std::pow(6.0, chinchilla::kA_exp) / chinchilla::g();
  EXPECT_GT(ratio, 1.0);
  EXPECT_LT(ratio, 1.10);
  // A narrower grid shrinks the bias (it is O(width²) from the cubic term of the profile).
  const auto narrow = fit_isoflop(isoflop_grid(std::log(2.0), 9, 0, 1), opt);
  const double ratio_narrow = narrow.scaling.k_n.value * std::pow(6.0, chinchilla::kA_exp) / chinchilla::g();
  EXPECT_LT(std::abs(ratio_narrow - 1), std::abs(ratio - 1) / 2);
  // L_opt agrees with the true minimum loss to well under 1%.
  for (const auto& b : narrow.budgets) {
    const double l_true = chinchilla::loss(chinchilla::n_opt(b.c), chinchilla::d_opt(b.c));
    EXPECT_NEAR(b.l_opt / l_true, 1.0, 1e-3);
    EXPECT_NEAR(b.d_opt, b.c / (6 * b.n_opt), 1e-6 * b.d_opt);
  }
}

TEST(Isoflop, GridsOffCentreByVaryingAmountsBiasTheExponent) {
  // The known weakness of Approach 2: when the grid's placement relative to the optimum drifts
  // with C, the vertex bias drifts too and leaks into a. Documented, not hidden: this must show.
  // Here the grid centre moves from 0.8 below to 0.8 above ln N_opt over three decades of C; the
  // error in a is ~3e-4, five orders of magnitude above the centred case (1e-9 above) yet far
  // below the statistical error of a realistic sweep (see the noisy test), which is why Approach 2
  // is usable in practice when grids are roughly centred.
  IsoflopOptions opt;
  opt.bootstrap = 0;
  const auto r = fit_isoflop(isoflop_grid(std::log(8.0), 9, 0, 1, -0.8, 0.8), opt);
  for (const auto& b : r.budgets) ASSERT_EQ(b.skipped, SkipReason::kNone) << b.reason;
  EXPECT_GT(std::abs(r.scaling.a.value - chinchilla::kA_exp), 1e-4);
  EXPECT_LT(std::abs(r.scaling.a.value - chinchilla::kA_exp), 5e-3);
}

TEST(Isoflop, NoisyGridsRecoverExponentsWithinBootstrapInterval) {
  // 0.3% multiplicative loss noise, about the seed-to-seed spread of final losses of LMs of this
  // size. The tolerance is statistical: the estimate must be within 4 bootstrap SEs of the truth
  // and the 95% percentile interval must contain it (data and resamples are seeded, so the test
  // is deterministic; with fresh seeds it would fail ~5% of the time, by design of a 95% CI).
  IsoflopOptions opt;
  opt.bootstrap = 400;
  opt.seed = 11;
  opt.predict_at = {1e20};
  const auto r = fit_isoflop(isoflop_grid(std::log(4.0), 9, 0.003, 5), opt);
  const auto& s = r.scaling;
  EXPECT_EQ(s.bootstrap_requested, 400);
  EXPECT_GT(s.bootstrap_used, 390);
  ASSERT_TRUE(std::isfinite(s.a.se));
  EXPECT_GT(s.a.se, 0);
  EXPECT_LT(s.a.se, 0.05);  // informative, not just wide
  EXPECT_NEAR(s.a.value, chinchilla::kA_exp, 4 * s.a.se);
  EXPECT_LE(s.a.lo, chinchilla::kA_exp);
  EXPECT_GE(s.a.hi, chinchilla::kA_exp);
  EXPECT_LE(s.b.lo, chinchilla::kB_exp);
  EXPECT_GE(s.b.hi, chinchilla::kB_exp);
  EXPECT_NEAR(s.a.value + s.b.value, 1.0, 1e-12);  // D_opt = C/(6·N_opt)
  // Bootstrap and OLS standard errors must be of the same order. They are not equal: in a
  // Monte Carlo over 200 data sets of this design the true SD of â was 0.0056, the mean OLS SE
  // 0.0050 and the mean bootstrap SE 0.0085 (95% interval coverage 96%): resampling 9 runs with
  // replacement sometimes leaves a budget with a poorly determined curvature, and the vertex
  // −c1/(2·c2) has a heavy tail then, so the bootstrap SE is conservative for Approach 2. The OLS SE
  // uses only the 7 − 2 residual degrees of freedom, so for one data set either can be larger.
  EXPECT_GT(s.a.se / s.a.se_analytic, 1.0 / 3.0);
  EXPECT_LT(s.a.se / s.a.se_analytic, 3.0);
  // N_opt at a compute inside the fitted range: the interval contains the truth up to the
  // vertex bias of a ±ln 4 grid (a few percent, see the noise-free test), so widen by 10%.
  ASSERT_EQ(s.predictions.size(), 1u);
  const auto& p = s.predictions[0];
  EXPECT_LT(p.n_opt.lo, p.n_opt.value);
  EXPECT_GT(p.n_opt.hi, p.n_opt.value);
  EXPECT_LT(p.n_opt.lo, chinchilla::n_opt(1e20) * 1.1);
  EXPECT_GT(p.n_opt.hi, chinchilla::n_opt(1e20) / 1.1);
}

TEST(Isoflop, BootstrapIsDeterministicAcrossThreadCounts) {
  const auto runs = isoflop_grid(std::log(4.0), 9, 0.003, 3);
  IsoflopOptions opt;
  opt.bootstrap = 120;
  opt.seed = 99;
  opt.threads = 1;
  const auto one = fit_isoflop(runs, opt);
  opt.threads = 2;
  const auto two = fit_isoflop(runs, opt);
  EXPECT_EQ(one.scaling.a.se, two.scaling.a.se);
  EXPECT_EQ(one.scaling.a.lo, two.scaling.a.lo);
  EXPECT_EQ(one.scaling.k_d.hi, two.scaling.k_d.hi);
  opt.seed = 100;
  const auto other = fit_isoflop(runs, opt);
  EXPECT_NE(one.scaling.a.se, other.scaling.a.se);
}

TEST(Isoflop, SkipsUnusableBudgetsWithTypedReasons) {
  auto runs = isoflop_grid(std::log(3.0), 7, 0, 1);
  // Budget at 3e21 sampled only on the small side of its optimum: loss still falling at the
  // largest N, so the parabola's vertex lies beyond the sampled range.
  const double c_edge = 3e21;
  for (int j = 0; j < 6; ++j) {
    const double n = chinchilla::n_opt(c_edge) * std::exp(-3.0 + 0.4 * j);
    runs.push_back(FitRun{n, c_edge / (6 * n), c_edge, 0, chinchilla::loss(n, c_edge / (6 * n)), 0});
  }
  // Budget at 1e22 with only two model sizes (four runs).
  const double c_two = 1e22;
  for (double f : {0.5, 0.5, 2.0, 2.0}) {
    const double n = chinchilla::n_opt(c_two) * f;
    runs.push_back(FitRun{n, c_two / (6 * n), c_two, 0, chinchilla::loss(n, c_two / (6 * n)), 0});
  }
  // Budget at 3e22 whose losses peak in the middle (a broken sweep): curvature is negative.
  const double c_cap = 3e22;
  for (int j = 0; j < 5; ++j) {
    const double u = j - 2.0;
    runs.push_back(FitRun{1e10 * std::exp(u), 1, c_cap, 0, 2.0 - 0.01 * u * u, 0});
  }
  IsoflopOptions opt;
  opt.bootstrap = 50;
  const auto r = fit_isoflop(runs, opt);
  ASSERT_EQ(r.budgets.size(), kBudgets.size() + 3);
  const auto& edge = r.budgets[kBudgets.size()];
  const auto& two = r.budgets[kBudgets.size() + 1];
  const auto& cap = r.budgets[kBudgets.size() + 2];
  EXPECT_EQ(edge.skipped, SkipReason::kMinimumAtEdge) << edge.reason;
  EXPECT_TRUE(edge.parabola.has_value());
  EXPECT_EQ(two.skipped, SkipReason::kTooFewDistinctN);
  EXPECT_EQ(two.distinct_n, 2u);
  EXPECT_FALSE(two.parabola.has_value());
  EXPECT_EQ(cap.skipped, SkipReason::kNonPositiveCurvature);
  // The usable budgets still give the right exponent (same argument as the noise-free test).
  EXPECT_NEAR(r.scaling.a.value, chinchilla::kA_exp, 1e-9);
  EXPECT_EQ(r.points_used, 7 * kBudgets.size());

  const auto j = to_json(r);
  EXPECT_EQ(j["approach"], 2);
  EXPECT_EQ(j["budgets"].size(), kBudgets.size() + 3);
  EXPECT_EQ(j["budgets_used"], kBudgets.size());
  EXPECT_EQ(j["budgets"][kBudgets.size()]["skipped"]["code"], "minimum_at_edge");
  EXPECT_EQ(j["budgets"][kBudgets.size() + 1]["skipped"]["code"], "too_few_distinct_n");
  EXPECT_TRUE(j["budgets"][kBudgets.size() + 1]["parabola"].is_null());
  EXPECT_TRUE(j["budgets"][0]["skipped"].is_null());
  EXPECT_TRUE(j["budgets"][0]["parabola"].contains("c2"));
  EXPECT_DOUBLE_EQ(j["budgets"][0]["N_opt"].get<double>(), r.budgets[0].n_opt);
  for (const char* key : {"a", "b", "k_N", "k_D"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j[key].contains("value"));
    EXPECT_TRUE(j[key].contains("se"));
    EXPECT_EQ(j[key]["ci95"].size(), 2u);
  }
  EXPECT_EQ(j["points_used"], 7 * kBudgets.size());
}

TEST(Isoflop, ParabolaCoefficientsAreInLnN) {
  // loss = 3 − 0.2·u + 0.01·u² in u = ln N: vertex at u = 10.
  std::vector<FitRun> runs;
  for (double c : {1e18, 1e19})
    for (int j = 0; j < 5; ++j) {
      const double u = 8.0 + j;
      runs.push_back(FitRun{std::exp(u), 1, c, 0, 3 - 0.2 * u + 0.01 * u * u, 0});
    }
  IsoflopOptions opt;
  opt.bootstrap = 0;
  const auto b = fit_isoflop(runs, opt).budgets[0];
  ASSERT_TRUE(b.parabola);
  EXPECT_NEAR(b.parabola->c0, 3, 1e-9);
  EXPECT_NEAR(b.parabola->c1, -0.2, 1e-10);
  EXPECT_NEAR(b.parabola->c2, 0.01, 1e-12);
  EXPECT_NEAR(b.n_opt, std::exp(10.0), 1e-6 * std::exp(10.0));
  EXPECT_NEAR(b.l_opt, 2.0, 1e-10);
}

TEST(Isoflop, FewerThanTwoUsableBudgetsThrows) {
  std::vector<FitRun> runs;
  for (int j = 0; j < 5; ++j) {  // one good budget
    const double n = chinchilla::n_opt(1e19) * std::exp(-1 + 0.5 * j);
    runs.push_back(FitRun{n, 1e19 / (6 * n), 1e19, 0, chinchilla::loss(n, 1e19 / (6 * n)), 0});
  }
  for (double f : {1.0, 2.0}) {  // and one with two sizes
    const double n = chinchilla::n_opt(1e20) * f;
    runs.push_back(FitRun{n, 1e20 / (6 * n), 1e20, 0, chinchilla::loss(n, 1e20 / (6 * n)), 0});
  }
  try {
    fit_isoflop(runs);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("at least 2 usable compute budgets"), std::string::npos) << w;
    EXPECT_NE(w.find("distinct N"), std::string::npos) << w;
  }
  EXPECT_THROW(fit_isoflop(std::vector<FitRun>{}), std::invalid_argument);
}

TEST(Isoflop, GroupsByRelativeToleranceOrExplicitIds) {
  // C logged with rounding differences of up to ±2% within a budget (e.g. 6ND recomputed from
  // rounded N): the 5% default keeps them together; tolerance 0 splits them.
  auto runs = isoflop_grid(std::log(3.0), 5, 0, 1);
  std::vector<long> ids;
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].c *= 1 + 0.02 * ((i % 3) - 1.0);
    ids.push_back(static_cast<long>(100 + i / 5));
  }
  const auto groups = group_by_compute(runs, 0.05);
  ASSERT_EQ(groups.size(), kBudgets.size());
  for (const auto& g : groups) EXPECT_EQ(g.size(), 5u);
  EXPECT_GT(group_by_compute(runs, 0.0).size(), kBudgets.size());

  IsoflopOptions opt;
  opt.bootstrap = 0;
  const auto by_tol = fit_isoflop(runs, opt);
  opt.budget_ids = ids;
  const auto by_id = fit_isoflop(runs, opt);
  ASSERT_EQ(by_id.budgets.size(), kBudgets.size());
  EXPECT_EQ(by_id.budgets[0].id, 100);
  EXPECT_EQ(by_id.budgets[6].id, 106);
  EXPECT_NEAR(by_id.scaling.a.value, by_tol.scaling.a.value, 1e-12);
  // The C jitter moves D_opt = C/(6N) off the exact law, but only slightly.
  EXPECT_NEAR(by_tol.scaling.a.value, chinchilla::kA_exp, 0.01);

  opt.budget_ids.pop_back();
  EXPECT_THROW(fit_isoflop(runs, opt), std::invalid_argument);
  auto bad = runs;
  bad[3].loss = -1;
  EXPECT_THROW(fit_isoflop(bad), std::invalid_argument);
}

TEST(Isoflop, LogLossScaleIsCloseButNotIdentical) {
  // ln(E + K·g(δ)) is not an affine image of g(δ), so with the irreducible E the vertex bias now
  // depends on K(C)/E and a small bias in a appears; it stays well below 0.01 for a ±ln 3 grid.
  IsoflopOptions opt;
  opt.bootstrap = 0;
  opt.loss_scale = LossScale::kLog;
  const auto r = fit_isoflop(isoflop_grid(std::log(3.0), 9, 0, 1), opt);
  EXPECT_NEAR(r.scaling.a.value, chinchilla::kA_exp, 5e-3);
  EXPECT_EQ(to_json(r)["loss_scale"], "log");
  const double l_true = chinchilla::loss(chinchilla::n_opt(r.budgets[0].c), chinchilla::d_opt(r.budgets[0].c));
  EXPECT_NEAR(r.budgets[0].l_opt / l_true, 1.0, 1e-3);
}

TEST(Isoflop, RunsFromATableThroughLoadRuns) {
  // The path the CLI takes: a CSV with N, D and loss (C = 6ND derived by load_runs).
  std::string csv = "N,D,loss\n";
  for (double c : {1e18, 1e19, 1e20})
    for (int j = 0; j < 5; ++j) {
      const double n = chinchilla::n_opt(c) * std::exp(-1.0 + 0.5 * j);
      const double d = c / (6 * n);
      char row[128];
      std::snprintf(row, sizeof row, "%.17g,%.17g,%.17g\n", n, d, chinchilla::loss(n, d));
      csv += row;
    }
  const auto ds = load_runs(scalinglab::io::parse_csv(csv, "iso.csv"), ColumnSpec{});
  IsoflopOptions opt;
  opt.bootstrap = 0;
  const auto r = fit_isoflop(ds.runs, opt);
  EXPECT_EQ(r.budgets.size(), 3u);
  EXPECT_NEAR(r.scaling.a.value, chinchilla::kA_exp, 1e-6);  // 17 significant digits round trip
  // A run without compute (e.g. filtered columns) is reported with its source line.
  auto runs = ds.runs;
  runs[4].c = 0;
  try {
    fit_isoflop(runs, opt);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("line 6"), std::string::npos) << e.what();
  }
}
