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
      runs.push_back(FitRun{std::exp(u), c / (6 * std::exp(u)), c, 0, 3 - 0.2 * u + 0.01 * u * u, 0});
    }
  IsoflopOptions opt;
  opt.bootstrap = 0;
  const auto b = fit_isoflop(runs, opt).budgets[0];
  // D = C/(6N): ln D = ln(C/6) − u, so the ln D parabola is the mirror image and its vertex is
  // D_opt = C/(6·N_opt).
  ASSERT_TRUE(b.parabola_d);
  EXPECT_NEAR(b.d_opt, 1e18 / (6 * std::exp(10.0)), 1e-6 * b.d_opt);
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

namespace {

// A table whose FLOP count is not 6ND: 9 nominal budgets (6e18 .. 3e21, as Hoffmann et al.
// §3.2), `sizes` model sizes log-spaced over N_opt^{6ND}(C)·[1/4, 4], and D the tokens a recipe
// that counts FLOPs differently trains for budget C: 6ND/C = r(N) rises log-linearly from 0.93 at
// the table's smallest N to 1.35 at its largest (e.g. attention FLOPs not in 6ND). `budget` holds
// the nominal C of every run and `c` = budget too (the table's own C column).
struct DriftTable {
  std::vector<FitRun> runs;
  double ln_min = 0, ln_max = 0;
  double ratio(double n) const { return 0.93 * std::pow(1.35 / 0.93, (std::log(n) - ln_min) / (ln_max - ln_min)); }
};

std::vector<double> drift_budgets() {
  std::vector<double> c;
  for (int i = 0; i < 9; ++i) c.push_back(6e18 * std::pow(3e21 / 6e18, i / 8.0));
  return c;
}

DriftTable drift_table(int sizes, double noise = 0, uint64_t seed = 1) {
  DriftTable t;
  const double hw = std::log(4.0);
  const auto cs = drift_budgets();
  t.ln_min = std::log(chinchilla::n_opt(cs.front())) - hw;
  t.ln_max = std::log(chinchilla::n_opt(cs.back())) + hw;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  for (double c : cs)
    for (int j = 0; j < sizes; ++j) {
      const double n = chinchilla::n_opt(c) * std::exp(-hw + 2 * hw * j / (sizes - 1.0));
      const double d = t.ratio(n) * c / (6 * n);
      FitRun r{n, d, c, 0, chinchilla::loss(n, d) * std::exp(noise * z(rng)), 0};
      r.budget = c;
      t.runs.push_back(r);
    }
  return t;
}

// The truth's optimum under the table's own compute: minimise L(N, r(N)·C/(6N)) over ln N by
// golden-section search (the profile is unimodal), an independent reference for the parabolas.
std::pair<double, double> true_optimum(const DriftTable& t, double c) {
  auto f = [&](double u) {
    const double n = std::exp(u);
    return chinchilla::loss(n, t.ratio(n) * c / (6 * n));
  };
  double lo = std::log(chinchilla::n_opt(c)) - 4, hi = std::log(chinchilla::n_opt(c)) + 4;
  const double g = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i < 200; ++i) {
    const double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
    if (f(x1) < f(x2))
      hi = x2;
    else
      lo = x1;
  }
  const double n = std::exp((lo + hi) / 2);
  return {n, t.ratio(n) * c / (6 * n)};
}

double ols_slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += std::log(x[i]), my += std::log(y[i]);
  mx /= x.size(), my /= y.size();
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
    sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
  }
  return sxy / sxx;
}

}  // namespace

TEST(Isoflop, TableWhoseFlopsAreNot6NDRecoversTheTrueDExponent) {
  const DriftTable t = drift_table(9);
  std::vector<double> cs, n_true, d_true;
  for (double c : drift_budgets()) {
    const auto [n, d] = true_optimum(t, c);
    cs.push_back(c), n_true.push_back(n), d_true.push_back(d);
  }
  const double a_true = ols_slope(cs, n_true), b_true = ols_slope(cs, d_true);
  IsoflopOptions opt;
  opt.bootstrap = 200;
  opt.seed = 3;
  const auto r = fit_isoflop(t.runs, opt);
  EXPECT_EQ(r.grouping, "budget");
  ASSERT_EQ(r.budgets.size(), 9u);
  EXPECT_EQ(r.budgets_used, 9u);
  // Tolerance 2e-3: noise-free, the only error is the parabola's vertex bias, whose drift with C
  // (the grid is centred on the 6ND optimum, not on this table's) moves exponents by ~1e-4 —
  // compare GridsOffCentreByVaryingAmountsBiasTheExponent, where a larger drift gives < 5e-3.
  // The derived b = 1 − a (today's) misses by > 0.02, ten times the tolerance.
  EXPECT_NEAR(r.scaling.b.value, b_true, 2e-3);
  EXPECT_NEAR(r.scaling.a.value, a_true, 2e-3);
  IsoflopOptions derived = opt;
  derived.d_from_runs = false;
  const auto old = fit_isoflop(t.runs, derived);
  EXPECT_GT(std::abs(old.scaling.b.value - b_true), 0.02);
  EXPECT_NEAR(old.scaling.a.value + old.scaling.b.value, 1, 1e-12);
  // a + b departs from 1 beyond its interval, and both warnings say so, with 6ND/C's range.
  EXPECT_GT(r.a_plus_b.value - 1, 0.02);
  EXPECT_NEAR(r.a_plus_b.value, r.scaling.a.value + r.scaling.b.value, 1e-12);
  ASSERT_TRUE(r.a_plus_b.has_interval());
  EXPECT_GT(r.a_plus_b.lo, 1);
  EXPECT_NEAR(r.flops_ratio_min, 0.93, 0.02);
  EXPECT_NEAR(r.flops_ratio_max, 1.35, 0.02);
  std::string all;
  for (const auto& w : r.warnings) all += w + "\n";
  EXPECT_NE(all.find("6ND/C ranges over [0.93"), std::string::npos) << all;
  EXPECT_NE(all.find("a + b = "), std::string::npos) << all;
  const auto j = to_json(r);
  EXPECT_EQ(j["D_opt_from"], "ln D parabola");
  EXPECT_EQ(j["grouping"]["by"], "budget");
  EXPECT_EQ(j["grouping"]["groups"], 9);
  EXPECT_DOUBLE_EQ(j["a_plus_b"]["value"].get<double>(), r.a_plus_b.value);
  EXPECT_EQ(j["warnings"].size(), r.warnings.size());
}

TEST(Isoflop, ExactSixNDTablesGiveAPlusBOneWithoutWarning) {
  IsoflopOptions opt;
  opt.bootstrap = 100;
  const auto r = fit_isoflop(isoflop_grid(std::log(4.0), 9, 0.003, 5), opt);
  EXPECT_NEAR(r.a_plus_b.value, 1, 1e-9);  // the ln D parabola mirrors the ln N one when D = C/(6N)
  EXPECT_NEAR(r.flops_ratio_max, 1, 1e-12);
  for (const auto& w : r.warnings) EXPECT_EQ(w.find("a + b"), std::string::npos) << w;
  EXPECT_TRUE(to_json(r)["warnings"].is_array());
}

TEST(Isoflop, ToleranceGroupingOfDriftingComputeIsRefused) {
  // The same table without its nominal budgets: C = 6ND (what load_runs derives) scatters each
  // budget over 6ND/C in [0.93, 1.35] and a 5% tolerance splits it into fragments.
  auto t = drift_table(8);
  for (auto& r : t.runs) r.c = 6 * r.n * r.d, r.budget = 0;
  const auto groups = group_by_compute(t.runs, 0.05);
  size_t small = 0;
  for (const auto& g : groups) small += g.size() < 3;
  ASSERT_GT(groups.size(), 20u);  // instead of 9
  ASSERT_GE(2 * small, groups.size());
  IsoflopOptions opt;
  opt.bootstrap = 0;
  try {
    fit_isoflop(t.runs, opt);
    FAIL() << "expected the grouping to be refused";
  } catch (const std::invalid_argument& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("IsoflopOptions::c_tolerance"), std::string::npos) << w;
    EXPECT_NE(w.find("Run::budget"), std::string::npos) << w;
    EXPECT_NE(w.find("formed " + std::to_string(groups.size()) + " budgets"), std::string::npos) << w;
  }
  // Nine sizes per budget split into 27 groups of exactly 3: not refused (a parabola fits), but
  // most of the fragments' vertices fall outside their range, and a warning points at budgets.
  auto nine = drift_table(9);
  for (auto& r : nine.runs) r.c = 6 * r.n * r.d, r.budget = 0;
  const auto frag = fit_isoflop(nine.runs, opt);
  EXPECT_EQ(frag.budgets.size(), 27u);
  EXPECT_LT(2 * frag.budgets_used, frag.budgets.size());
  bool warned = false;
  for (const auto& w : frag.warnings) warned |= w.find("Run::budget") != std::string::npos;
  EXPECT_TRUE(warned);
  // A partly given budget is an error, not a silent mix of two groupings.
  t.runs[0].budget = 1e19;
  EXPECT_THROW(fit_isoflop(t.runs, opt), std::invalid_argument);
}

TEST(Isoflop, EdgeVerticesDropOrKeep) {
  auto runs = isoflop_grid(std::log(3.0), 7, 0, 1);
  const double c_edge = 3e21;  // sampled only below its optimum: the vertex is extrapolated
  for (int j = 0; j < 6; ++j) {
    const double n = chinchilla::n_opt(c_edge) * std::exp(-3.0 + 0.4 * j);
    runs.push_back(FitRun{n, c_edge / (6 * n), c_edge, 0, chinchilla::loss(n, c_edge / (6 * n)), 0});
  }
  IsoflopOptions opt;
  opt.bootstrap = 0;
  const auto drop = fit_isoflop(runs, opt);
  const auto& e = drop.budgets.back();
  EXPECT_FALSE(e.used());
  EXPECT_EQ(e.skipped, SkipReason::kMinimumAtEdge);
  EXPECT_TRUE(std::isnan(e.n_opt) && std::isnan(e.d_opt));  // never reported as 0
  EXPECT_NE(e.reason.find("outside the sampled range"), std::string::npos);
  const auto jd = to_json(drop);
  ASSERT_EQ(jd["skipped"].size(), 1u);
  EXPECT_EQ(jd["skipped"][0]["code"], "minimum_at_edge");
  EXPECT_FALSE(jd["budgets"].back()["used"].get<bool>());
  EXPECT_TRUE(jd["budgets"].back()["N_opt"].is_null());

  opt.edge_vertices = EdgeVertices::kKeep;
  const auto keep = fit_isoflop(runs, opt);
  const auto& k = keep.budgets.back();
  EXPECT_TRUE(k.used());
  EXPECT_TRUE(k.extrapolated);
  EXPECT_GT(k.n_opt, k.n_max);  // the optimum lies above the largest model sampled
  EXPECT_EQ(keep.budgets_used, drop.budgets_used + 1);
  EXPECT_EQ(keep.budgets_extrapolated, 1u);
  bool warned = false;
  for (const auto& w : keep.warnings) warned |= w.find("edge_vertices") != std::string::npos;
  EXPECT_TRUE(warned);
  EXPECT_TRUE(to_json(keep)["budgets"].back()["extrapolated"].get<bool>());
}

TEST(Isoflop, BootstrapSchemes) {
  const auto runs = isoflop_grid(std::log(4.0), 9, 0.003, 5);
  IsoflopOptions opt;
  opt.seed = 4;
  opt.bootstrap = 300;
  const auto points = fit_isoflop(runs, opt);
  opt.bootstrap_scheme = IsoflopBootstrap::kBudgets;
  const auto budgets = fit_isoflop(runs, opt);
  opt.bootstrap_scheme = IsoflopBootstrap::kSubsample80;
  opt.bootstrap = 100;
  const auto sub = fit_isoflop(runs, opt);
  // Same point estimates; only the intervals differ.
  EXPECT_EQ(points.scaling.a.value, budgets.scaling.a.value);
  EXPECT_EQ(points.scaling.a.value, sub.scaling.a.value);
  for (const auto* r : {&points, &budgets, &sub}) {
    EXPECT_TRUE(r->scaling.a.has_interval()) << to_string(r->bootstrap_scheme);
    EXPECT_LT(r->scaling.a.lo, r->scaling.a.value);
    EXPECT_GT(r->scaling.a.hi, r->scaling.a.value);
    EXPECT_LT(r->scaling.a.se, 0.05);
  }
  // budgets: a pairs bootstrap of the 7 vertices; its SE is of the order of the OLS SE of a
  // (same residuals), within a factor 3.
  EXPECT_GT(budgets.scaling.a.se / budgets.scaling.a.se_analytic, 1.0 / 3);
  EXPECT_LT(budgets.scaling.a.se / budgets.scaling.a.se_analytic, 3.0);
  // subsample80: p10–p90 of the replicates, narrower than their own 95% interval would be.
  EXPECT_EQ(sub.interval_coverage, 0.8);
  EXPECT_EQ(sub.scaling.bootstrap_requested, 100);
  const auto j = to_json(sub);
  EXPECT_TRUE(j["a"].contains("ci80"));
  EXPECT_FALSE(j["a"].contains("ci95"));
  EXPECT_EQ(j["bootstrap"]["scheme"], "subsample80");
  EXPECT_TRUE(to_json(points)["a"].contains("ci95"));
}

TEST(Isoflop, PredictionFarPastTheDataWarns) {
  IsoflopOptions opt;
  opt.bootstrap = 0;
  opt.predict_at = {1e21 * std::pow(10.0, 3.6), 1e22};
  const auto r = fit_isoflop(isoflop_grid(std::log(4.0), 9, 0, 1), opt);
  size_t n = 0;
  for (const auto& w : r.warnings) n += w.find("3.60 orders of magnitude") != std::string::npos;
  EXPECT_EQ(n, 1u);  // 1e22 is 1 order out: no warning
}
