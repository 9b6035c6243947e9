// Laws of the free variable x: inference-time scaling L(c) = L_inf + K·c^(−γ) and the broken
// neural scaling laws of Caballero et al. 2022 (arXiv:2210.14891, eq. 1) with one and two breaks.
// Gradients against finite differences, parameter maps, the closed form, recovery of known
// parameters from noisy synthetic curves, and extrapolation to held-out top-x points.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/problem.h"
#include "scalinglab/fit/synthetic.h"

using namespace scalinglab::fit;

namespace {

// Caballero et al. eq. 1 evaluated directly (the reference for the law's LSE form).
double bnsl(double x, double a, double b, double c0, const std::vector<std::array<double, 3>>& breaks) {
  double y = b * std::pow(x, -c0);
  for (const auto& [c, d, f] : breaks) y *= std::pow(1 + std::pow(x / d, 1 / f), -c * f);
  return a + y;
}

Dataset curve(const std::function<double(double)>& y, double lx_lo, double lx_hi, int points, double sigma,
              uint64_t seed) {
  NormalStream rng(seed);
  Dataset ds;
  ds.source = "curve";
  ds.has_x = true;
  for (int i = 0; i < points; ++i) {
    const double x = std::pow(10.0, lx_lo + (lx_hi - lx_lo) * i / (points - 1));
    ds.runs.push_back({0, 0, 0, x, y(x) * std::exp(sigma * rng.next()), i + 2L});
  }
  return ds;
}

size_t index_of(const Law& law, const std::string& name) {
  auto names = law.param_names();
  return static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

}  // namespace

TEST(LawsOfX, AnalyticGradientsMatchFiniteDifferencesAtRandomPoints) {
  NormalStream rng(3);
  auto uni = [&](double lo, double hi) { return lo + (hi - lo) * rng.uniform(); };
  for (const std::string name : {"inference", "broken", "broken-2"}) {
    auto law = make_law(name);
    for (int trial = 0; trial < 25; ++trial) {
      std::vector<double> t;
      if (name == "inference") {
        t = {uni(-2, 3), uni(-3, 1), uni(0.05, 1.5)};  // k = ln K, e = ln L_inf, γ
      } else {
        t = {uni(-3, 1), uni(-1, 4), uni(0, 1)};  // ln a, ln b, c0
        for (int i = 0; i < (name == "broken" ? 1 : 2); ++i) t.insert(t.end(), {uni(-0.5, 2), uni(2, 16), uni(-2, 1)});
      }
      LogPoint p;
      p.x = uni(0, 18);
      std::vector<double> g(law->dim());
      law->log_predict(t.data(), p, g.data());
      for (size_t j = 0; j < law->dim(); ++j) {
        const double h = 1e-6;
        auto tp = t, tm = t;
        tp[j] += h;
        tm[j] -= h;
        double fd = (law->log_predict(tp.data(), p, nullptr) - law->log_predict(tm.data(), p, nullptr)) / (2 * h);
        EXPECT_NEAR(g[j], fd, 2e-6 * std::max(1.0, std::fabs(fd))) << name << " " << law->internal_names()[j];
      }
    }
  }
}

TEST(LawsOfX, PublicParametersRoundTripAndMatchTheClosedForms) {
  auto inf = make_law("inference");
  EXPECT_EQ(inf->param_names(), (std::vector<std::string>{"L_inf", "K", "gamma"}));
  std::vector<double> pi{0.12, 2.5, 0.45};
  auto ti = inf->to_internal(pi);
  auto bi = inf->to_public(ti.data());
  for (size_t i = 0; i < pi.size(); ++i) EXPECT_NEAR(bi[i], pi[i], 1e-12 * pi[i]);
  EXPECT_NEAR(std::exp(inf->log_predict(ti.data(), log_point({0, 0, 0, 64, 1, 0}), nullptr)),
              0.12 + 2.5 * std::pow(64.0, -0.45), 1e-12);

  auto b2 = make_law("broken-2");
  EXPECT_EQ(b2->param_names(), (std::vector<std::string>{"a", "b", "c0", "c1", "d1", "f1", "c2", "d2", "f2"}));
  std::vector<double> pb{0.05, 30, 0.2, 0.4, 1e4, 0.3, -0.3, 1e7, 0.7};
  auto tb = b2->to_internal(pb);
  auto bb = b2->to_public(tb.data());
  for (size_t i = 0; i < pb.size(); ++i) EXPECT_NEAR(bb[i], pb[i], 1e-12 * std::fabs(pb[i]));
  for (double x : {3.0, 1e3, 1e4, 2e5, 1e7, 1e9}) {
    double expect = bnsl(x, 0.05, 30, 0.2, {{0.4, 1e4, 0.3}, {-0.3, 1e7, 0.7}});
    EXPECT_NEAR(std::exp(b2->log_predict(tb.data(), log_point({0, 0, 0, x, 1, 0}), nullptr)), expect, 1e-12 * expect);
  }
  auto b1 = make_law("broken");
  auto t1 = b1->to_internal({0.05, 30, 0.2, 0.4, 1e4, 0.3});
  EXPECT_NEAR(std::exp(b1->log_predict(t1.data(), log_point({0, 0, 0, 5e5, 1, 0}), nullptr)),
              bnsl(5e5, 0.05, 30, 0.2, {{0.4, 1e4, 0.3}}), 1e-12);
}

TEST(LawsOfX, InferenceLawRecoversFloorScaleAndExponent) {
  // e.g. error rate against samples per problem, 1..4096, 2% noise.
  Dataset ds = curve([](double c) { return 0.08 + 0.6 * std::pow(c, -0.5); }, 0, std::log10(4096.0), 30, 0.02, 5);
  FitOptions o;
  o.bootstrap = 50;
  o.seed = 1;
  auto law = make_law("inference");
  FittedLaw r = fit(*law, ds, o);
  EXPECT_NEAR(r.params[0].value, 0.08, 0.01) << "L_inf";
  EXPECT_NEAR(r.params[1].value, 0.6, 0.05) << "K";
  EXPECT_NEAR(r.params[2].value, 0.5, 0.06) << "gamma";
  EXPECT_LE(r.params[2].lo, 0.5);
  EXPECT_GE(r.params[2].hi, 0.5);
}

TEST(LawsOfX, BrokenLawRecoversTheBreakAndBothSlopes) {
  // Slope 0.2 below x = 1e5, 0.2 + 0.5 = 0.7 above; 1% noise over x = 1e2 .. 1e8.
  auto truth = [](double x) { return bnsl(x, 0.02, 20, 0.2, {{0.5, 1e5, 0.3}}); };
  Dataset ds = curve(truth, 2, 8, 40, 0.01, 9);
  FitOptions o;
  o.bootstrap = 0;
  auto law = make_law("broken");
  FittedLaw r = fit(*law, ds, o);
  const double c0 = r.params[index_of(*law, "c0")].value, c1 = r.params[index_of(*law, "c1")].value;
  const double d1 = r.params[index_of(*law, "d1")].value;
  EXPECT_NEAR(c0, 0.2, 0.04);
  EXPECT_NEAR(c0 + c1, 0.7, 0.1);
  EXPECT_NEAR(std::log10(d1), 5.0, 0.3) << "d1 " << d1;
}

TEST(LawsOfX, TwoBreakLawRecoversBothBreaks) {
  // Steepens at 1e4 (0.1 -> 0.6), flattens again at 1e7 (0.6 -> 0.2).
  auto truth = [](double x) { return bnsl(x, 0.01, 10, 0.1, {{0.5, 1e4, 0.2}, {-0.4, 1e7, 0.2}}); };
  Dataset ds = curve(truth, 1, 10, 45, 0.005, 13);
  FitOptions o;
  o.bootstrap = 0;
  auto law = make_law("broken-2");
  FittedLaw r = fit(*law, ds, o);
  auto v = [&](const char* n) { return r.params[index_of(*law, n)].value; };
  EXPECT_NEAR(v("c0"), 0.1, 0.05);
  EXPECT_NEAR(v("c0") + v("c1"), 0.6, 0.1);
  EXPECT_NEAR(v("c0") + v("c1") + v("c2"), 0.2, 0.1);
  EXPECT_NEAR(std::log10(v("d1")), 4.0, 0.3);
  EXPECT_NEAR(std::log10(v("d2")), 7.0, 0.3);
  EXPECT_LT(r.quality.rmse_log, 0.007);
}

TEST(LawsOfX, BrokenLawExtrapolatesABendingCurveBetterThanAPowerLaw) {
  // The curve steepens at x = 1e4; the top 5 of 30 points (x > 1e6.7) are held out.
  auto truth = [](double x) { return bnsl(x, 0.05, 5, 0.1, {{0.4, 1e4, 0.5}}); };
  Dataset ds = curve(truth, 1, 7.5, 30, 0.005, 21);
  FitOptions o;
  o.bootstrap = 20;
  o.holdout_top_x = 5;
  FittedLaw broken = fit(*make_law("broken"), ds, o);
  FittedLaw power = fit(*make_law("power"), ds, o);
  ASSERT_TRUE(broken.holdout && power.holdout);
  EXPECT_EQ(broken.holdout->by, "x");
  EXPECT_EQ(broken.holdout->train_points, 25);
  ASSERT_EQ(broken.holdout->rows.size(), 5u);
  EXPECT_GT(broken.holdout->rows[0].orders_past_data, 0);  // held out beyond the training x
  EXPECT_LT(broken.holdout->mean_abs_rel_error, 0.03);
  EXPECT_LT(broken.holdout->mean_abs_rel_error, 0.5 * power.holdout->mean_abs_rel_error)
      << broken.holdout->mean_abs_rel_error << " vs " << power.holdout->mean_abs_rel_error;
}

TEST(LawsOfX, HoldoutByXRefusesAmbiguousOrImpossibleRequests) {
  Dataset ds = curve([](double x) { return 1 + 1 / x; }, 0, 3, 10, 0, 1);
  FitOptions o;
  o.bootstrap = 0;
  o.holdout_top_x = 7;  // 3 runs left for 3 parameters
  EXPECT_THROW(fit(*make_law("power"), ds, o), std::invalid_argument);
  o.holdout_top_x = 2;
  o.holdout_top_compute = 2;
  EXPECT_THROW(fit(*make_law("power"), ds, o), std::invalid_argument);
  o.holdout_top_compute = 0;
  EXPECT_NO_THROW(fit(*make_law("power"), ds, o));
}
