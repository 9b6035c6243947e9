// The fitter's fast path (trust-region Newton with the exact Hessian, newton.h) must find the
// same optimum as the reference: L-BFGS run to the end from every one of the 4,500 published
// starts (Hoffmann et al. 2022 App. D.2), on many datasets — different truths, noise levels,
// designs (IsoFLOP, grid, training curves), outliers.
#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/huber_objective.h"
#include "scalinglab/fit/multistart.h"
#include "scalinglab/fit/newton.h"
#include "scalinglab/fit/problem.h"
#include "scalinglab/fit/synthetic.h"

using namespace scalinglab::fit;

namespace {

struct Case {
  std::string name;
  Dataset data;
};

Dataset with_outliers(Dataset d, int every, double factor) {
  for (size_t i = 0; i < d.runs.size(); i += static_cast<size_t>(every)) d.runs[i].loss *= factor;
  return d;
}

// Training-curve shape: `runs` model sizes, each with `checkpoints` points along D.
Dataset curves(const ChinchillaParams& t, int runs, int checkpoints, double noise, uint64_t seed) {
  Dataset d = make_synthetic(t, SyntheticDesign{});  // for the column flags and source name
  d.runs.clear();
  NormalStream rng(seed);
  for (int r = 0; r < runs; ++r) {
    const double n = 3e7 * std::pow(100.0, r / (runs - 1.0));
    const double final = 20 * n * std::pow(8.0, rng.uniform() - 0.5);
    const double offset = 0.5 * noise * rng.next();
    for (int c = 0; c < checkpoints; ++c) {
      Run run;
      run.n = n;
      run.d = final * std::pow(40.0, (c - checkpoints + 1.0) / (checkpoints - 1.0));
      run.c = 6 * run.n * run.d;
      run.loss = t.loss(run.n, run.d) * std::exp(offset + noise * rng.next());
      run.line = static_cast<long>(d.runs.size()) + 2;
      d.runs.push_back(run);
    }
  }
  return d;
}

std::vector<Case> cases() {
  const ChinchillaParams hoffmann{};
  const ChinchillaParams epoch{1.8172, 482.01, 2085.43, 0.3478, 0.3658};
  const ChinchillaParams steep{2.0, 2000, 300, 0.55, 0.22};
  const ChinchillaParams low_floor{0.6, 150, 5000, 0.25, 0.45};
  std::vector<Case> out;
  SyntheticDesign iso;
  iso.noise = 0.015;
  out.push_back({"isoflop hoffmann 1.5%", make_synthetic(hoffmann, iso)});
  SyntheticDesign grid;
  grid.kind = SyntheticDesign::Kind::kGrid;
  grid.noise = 0.02;
  grid.seed = 7;
  out.push_back({"grid epoch 2%", make_synthetic(epoch, grid)});
  grid.noise = 0;
  out.push_back({"grid hoffmann noise-free", make_synthetic(hoffmann, grid)});
  SyntheticDesign wide = iso;
  wide.c_min = 6e18;
  wide.c_max = 3e21;
  wide.budgets = 9;
  wide.per_budget = 10;
  wide.noise = 0.015;
  wide.seed = 3;
  out.push_back({"isoflop epoch 9 budgets + outliers", with_outliers(make_synthetic(epoch, wide), 17, 1.1)});
  SyntheticDesign few = iso;
  few.budgets = 3;
  few.per_budget = 6;
  few.noise = 0.01;
  few.seed = 5;
  out.push_back({"isoflop steep 3 budgets", make_synthetic(steep, few)});
  grid.noise = 0.03;
  grid.seed = 11;
  out.push_back({"grid low-floor 3% + outliers", with_outliers(make_synthetic(low_floor, grid), 9, 0.9)});
  SyntheticDesign tight = iso;
  tight.noise = 0.002;
  tight.seed = 13;
  out.push_back({"isoflop steep 0.2%", make_synthetic(steep, tight)});
  out.push_back({"training curves epoch", curves(epoch, 8, 16, 0.008, 21)});
  return out;
}

}  // namespace

TEST(FastPath, NewtonFromEveryStartFindsTheFullLbfgsGridOptimum) {
  auto law = make_law("chinchilla");
  const auto starts = law->default_starts();
  ASSERT_EQ(starts.size(), 4500u);
  for (const Case& c : cases()) {
    Problem p = make_problem(*law, c.data);
    HuberObjective obj(*law, p, nullptr, 1e-3, 0);
    SolverOptions deep;
    deep.max_iterations = 5000;
    MultiStartResult reference = minimize_from_starts(obj, starts, deep, 0);
    // Polish the reference until L-BFGS stops improving, so that it is the optimum itself.
    for (int i = 0; i < 5; ++i) {
      Optimum again = minimize(obj, reference.best.theta, deep);
      if (again.objective < reference.best.objective) reference.best = again;
    }
    MultiStartResult fast = solve_from_starts(obj, starts, SolverOptions{}, 0);
    ASSERT_TRUE(fast.best.newton) << c.name;
    const double f_ref = reference.best.objective, f_fast = fast.best.objective;
    // Never worse than the reference beyond rounding, and not "better" by finding another basin.
    // The absolute 1e-20 is the rounding floor of noise-free data (residuals ~1e-10 per point).
    const double floor = 1e-20;
    EXPECT_LE(f_fast, f_ref * (1 + 1e-9) + floor) << c.name;
    EXPECT_GE(f_fast, f_ref * (1 - 1e-6) - floor) << c.name;
    EXPECT_EQ(fast.best.status, SolverStatus::kGradient) << c.name << ": " << fast.best.gradient_norm;
    const auto pr = law->to_public(reference.best.theta.data()), pf = law->to_public(fast.best.theta.data());
    for (size_t j = 0; j < pr.size(); ++j)
      EXPECT_NEAR(pf[j] / pr[j], 1.0, 1e-4) << c.name << " " << law->param_names()[j];
    // Screening ran, and more than one continued start agrees on the winner.
    EXPECT_TRUE(fast.screened) << c.name;
    EXPECT_GE(fast.at_best, 2) << c.name;
    // Without screening, Newton from every start: the same optimum, and at least as many of the
    // 4,500 starts converge as with L-BFGS (none is left behind by the faster solver).
    SolverOptions every;
    every.screen_iterations = 0;
    MultiStartResult all = solve_from_starts(obj, starts, every, 0);
    EXPECT_LE(all.best.objective, f_ref * (1 + 1e-9) + floor) << c.name;
    EXPECT_GE(all.best.objective, f_ref * (1 - 1e-6) - floor) << c.name;
    EXPECT_GE(all.converged, reference.converged * 9 / 10) << c.name;
  }
}

TEST(FastPath, ExactHessianMatchesFiniteDifferencesOfTheGradient) {
  auto law = make_law("chinchilla");
  SyntheticDesign d;
  d.noise = 0.02;
  Dataset data = make_synthetic(ChinchillaParams{}, d);
  Problem p = make_problem(*law, data);
  std::vector<double> w(p.size());
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i % 3);  // bootstrap-like, zeros too
  HuberObjective obj(*law, p, &w, 1e-3, 0);
  auto k = LseHuber::make(obj);
  ASSERT_TRUE(k.has_value());
  LseHuber::Workspace ws;
  // A point away from the optimum where many residuals are in the quadratic zone and some not.
  LseHuber::Vec x(5);
  x << 6.0, 6.1, 0.52, 0.34, 0.28;
  LseHuber::Vec g(5), gp(5), gm(5);
  LseHuber::Mat H(5, 5), K(5, 5);
  const double f = k->eval(x, g, &H, &K, ws);
  // Value and gradient agree with the reference HuberObjective (scaled).
  std::vector<double> gref(5);
  const double fref = obj.value(x.data(), gref.data());
  EXPECT_NEAR(f / (fref * obj.scale()), 1, 1e-12);
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(g[j], gref[static_cast<size_t>(j)] * obj.scale(), 1e-8 * std::fabs(g[j]) + 1e-6);
  const double h = 1e-7;
  for (int j = 0; j < 5; ++j) {
    LseHuber::Vec xp = x, xm = x;
    xp[j] += h;
    xm[j] -= h;
    k->eval(xp, gp, nullptr, nullptr, ws);
    k->eval(xm, gm, nullptr, nullptr, ws);
    const LseHuber::Vec fd = (gp - gm) / (2 * h);
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(H(i, j), fd[i], 1e-5 * H.cwiseAbs().maxCoeff()) << i << "," << j;
  }
}

TEST(FastPath, ResultDoesNotDependOnTheThreadCount) {
  auto law = make_law("chinchilla");
  Dataset data = make_synthetic(ChinchillaParams{}, SyntheticDesign{});
  Problem p = make_problem(*law, data);
  HuberObjective obj(*law, p, nullptr, 1e-3, 0);
  auto one = solve_from_starts(obj, law->default_starts(), {}, 1);
  auto two = solve_from_starts(obj, law->default_starts(), {}, 2);
  EXPECT_EQ(one.best.theta, two.best.theta);
  EXPECT_EQ(one.at_best, two.at_best);
}
