#include "scalinglab/fit/envelope.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "chinchilla_synth.h"
#include "scalinglab/io/input_error.h"

using namespace scalinglab::fit;
using scalinglab::io::InputError;
using scalinglab::io::parse_csv;

namespace {

// A family of `models` sizes log-spaced in [1e7, 3e10], each logged at `points` token counts
// log-spaced in [1e8, 2e12], loss = Chinchilla law at the tokens seen (as if every logged point
// were the end of a properly annealed run). Noise: a per-run multiplicative offset exp(σ_run·z)
// (seed-to-seed variation) and a per-point one exp(σ_pt·z) (evaluation noise).
std::vector<TrainingCurve> family(int models, int points, double run_noise, double point_noise, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<TrainingCurve> out;
  for (int i = 0; i < models; ++i) {
    TrainingCurve cv;
    cv.id = "m" + std::to_string(i);
    cv.n = 1e7 * std::pow(3e3, i / (models - 1.0));
    const double offset = run_noise * z(rng);
    for (int j = 0; j < points; ++j) {
      CurvePoint p;
      p.tokens = 1e8 * std::pow(2e4, j / (points - 1.0));
      p.c = 6 * cv.n * p.tokens;
      p.loss = chinchilla::loss(cv.n, p.tokens) * std::exp(offset + point_noise * z(rng));
      cv.points.push_back(p);
    }
    out.push_back(cv);
  }
  return out;
}

TrainingCurve curve(const std::string& id, double n, std::vector<std::pair<double, double>> c_loss) {
  TrainingCurve cv;
  cv.id = id;
  cv.n = n;
  for (auto [c, l] : c_loss) cv.points.push_back(CurvePoint{c / (6 * n), c, l, 0});
  return cv;
}

}  // namespace

TEST(Envelope, NoiseFreeFamilyRecoversExponents) {
  const int models = 24;
  EnvelopeOptions opt;
  opt.bootstrap = 0;
  const auto curves = family(models, 60, 0, 0, 1);
  const auto r = fit_envelope(curves, opt);
  ASSERT_EQ(r.frontier.size(), 1500u);  // the whole covered range has a run at every C
  EXPECT_DOUBLE_EQ(r.c_lo, 6 * 1e7 * 1e8);
  EXPECT_NEAR(r.c_hi / (6 * 3e10 * 2e12), 1.0, 1e-12);
  // Loss at fixed C is unimodal in ln N, so the lowest-loss member of a bracketing family is one
  // of the two sizes adjacent to the continuous optimum: within one family step r of N_opt(C)
  // (plus a hair for the linear-in-ln-C interpolation between logged points).
  const double step = std::pow(3e3, 1.0 / (models - 1));
  double lnc_min = 1e300, lnc_max = -1e300;
  for (const auto& p : r.frontier) {
    if (!p.used) continue;
    lnc_min = std::min(lnc_min, std::log(p.c));
    lnc_max = std::max(lnc_max, std::log(p.c));
    const double ratio = p.n_opt / chinchilla::n_opt(p.c);
    EXPECT_LT(ratio, step * 1.001) << "C=" << p.c;
    EXPECT_GT(ratio, 1 / (step * 1.001)) << "C=" << p.c;
    EXPECT_NEAR(p.d_opt, p.c / (6 * p.n_opt), 1e-9 * p.d_opt);
  }
  // Tolerance. ln N̂_opt − ln N_opt(C) is a quantisation error e bounded by ±ln r/2; the OLS slope
  // of a bounded e over a span S of ln C (points uniform in ln C) is at most
  // (ln r/2)·E|x−x̄|/Var(x) = (ln r/2)·(S/4)/(S²/12) = 1.5·ln r/S — the worst case, ≈ 0.03 here.
  // The error is periodic in ln C (period ln r/a), so over ~20 periods it mostly cancels and
  // in practice it is two orders smaller; we require 2e-3, well under the SE of a real fit.
  const double span = lnc_max - lnc_min;
  EXPECT_GT(span, std::log(1e6));
  EXPECT_NEAR(r.scaling.a.value, chinchilla::kA_exp, 1.5 * std::log(step) / span);
  EXPECT_NEAR(r.scaling.a.value, chinchilla::kA_exp, 2e-3);
  EXPECT_NEAR(r.scaling.b.value, chinchilla::kB_exp, 2e-3);
  EXPECT_NEAR(r.scaling.a.value + r.scaling.b.value, 1.0, 1e-12);
  EXPECT_GT(r.runs_on_frontier, 15u);
  EXPECT_EQ(r.points_used, static_cast<size_t>(std::count_if(r.frontier.begin(), r.frontier.end(),
                                                             [](const FrontierPoint& p) { return p.used; })));
}

TEST(Envelope, RequireBracketDropsPointsPinnedToTheFamilyEdge) {
  // Without the bracket rule the ends of the compute range, where the optimum lies outside the
  // family, pin N_opt to the smallest/largest model and flatten the slope.
  EnvelopeOptions opt;
  opt.bootstrap = 0;
  const auto curves = family(24, 60, 0, 0, 1);
  const auto with = fit_envelope(curves, opt);
  opt.require_bracket = false;
  const auto without = fit_envelope(curves, opt);
  EXPECT_EQ(without.points_used, 1500u);
  EXPECT_LT(with.points_used, 1500u);
  EXPECT_GT(std::abs(without.scaling.a.value - chinchilla::kA_exp),
            10 * std::abs(with.scaling.a.value - chinchilla::kA_exp));
  // A point is dropped exactly when its winner is the smallest or the largest size among the
  // runs that cover C (here: 6·N·1e8 ≤ C ≤ 6·N·2e12, recomputed independently).
  for (const auto& p : with.frontier) {
    double lo = 1e300, hi = 0;
    for (const auto& cv : curves)
      if (cv.points.front().c <= p.c * (1 + 1e-12) && p.c <= cv.points.back().c * (1 + 1e-12))
        lo = std::min(lo, cv.n), hi = std::max(hi, cv.n);
    EXPECT_EQ(p.used, p.n_opt != lo && p.n_opt != hi) << "C=" << p.c;
  }
}

TEST(Envelope, NoisyCurvesBootstrapIntervalContainsTruth) {
  // 0.3% seed-to-seed offset per run plus 0.1% evaluation noise per point. The data and the
  // resamples are seeded, so this is deterministic. Over 60 synthetic data sets of this design
  // the SD of â was 0.006 and the mean bootstrap SE 0.0097 (coverage of the 95% interval: 60/60):
  // resampling whole runs leaves ~63% distinct sizes, a coarser family, so the bootstrap is
  // conservative for Approach 1.
  EnvelopeOptions opt;
  opt.bootstrap = 200;
  opt.seed = 3;
  opt.predict_at = {1e21};
  const auto r = fit_envelope(family(24, 60, 0.003, 0.001, 17), opt);
  const auto& s = r.scaling;
  EXPECT_GT(s.bootstrap_used, 190);
  EXPECT_GT(s.a.se, 0);
  EXPECT_LT(s.a.se, 0.05);
  EXPECT_NEAR(s.a.value, chinchilla::kA_exp, 4 * s.a.se);
  EXPECT_LE(s.a.lo, chinchilla::kA_exp);
  EXPECT_GE(s.a.hi, chinchilla::kA_exp);
  EXPECT_LE(s.b.lo, chinchilla::kB_exp);
  EXPECT_GE(s.b.hi, chinchilla::kB_exp);
  ASSERT_EQ(s.predictions.size(), 1u);
  EXPECT_LE(s.predictions[0].n_opt.lo, chinchilla::n_opt(1e21));
  EXPECT_GE(s.predictions[0].n_opt.hi, chinchilla::n_opt(1e21));
  EXPECT_LE(s.predictions[0].d_opt.lo, chinchilla::d_opt(1e21));
  EXPECT_GE(s.predictions[0].d_opt.hi, chinchilla::d_opt(1e21));
}

TEST(Envelope, BootstrapIsDeterministicAcrossThreadCounts) {
  const auto curves = family(12, 30, 0.003, 0.001, 5);
  EnvelopeOptions opt;
  opt.bootstrap = 60;
  opt.num_compute = 300;
  opt.seed = 8;
  opt.threads = 1;
  const auto one = fit_envelope(curves, opt);
  opt.threads = 2;
  const auto two = fit_envelope(curves, opt);
  EXPECT_EQ(one.scaling.a.se, two.scaling.a.se);
  EXPECT_EQ(one.scaling.a.lo, two.scaling.a.lo);
  EXPECT_EQ(one.scaling.k_n.hi, two.scaling.k_n.hi);
}

TEST(Envelope, InterpolatesLinearlyInLogComputeWithoutExtrapolating) {
  // Run "small" covers C in [1, 100]; "big" only [10, 1000]. Three grid values 1, ~31.6, 1000.
  const std::vector<TrainingCurve> curves{curve("small", 1, {{1, 2.0}, {100, 1.0}}),
                                          curve("big", 10, {{10, 3.0}, {1000, 0.5}})};
  const auto f = loss_envelope(curves, {0, 1}, 1, 1000, 3, false);
  ASSERT_EQ(f.size(), 3u);
  // C = 1: only "small" covers it, although "big" extrapolated would be... not considered.
  EXPECT_EQ(f[0].curve, 0u);
  EXPECT_DOUBLE_EQ(f[0].loss, 2.0);
  // C = 10^1.5: small at 2 − 0.75 = 1.25; big at 3 − 2.5·(0.5/2) = 2.375.
  EXPECT_EQ(f[1].curve, 0u);
  EXPECT_NEAR(f[1].loss, 1.25, 1e-12);
  // C = 1000: beyond "small"'s last point; no extrapolation, so "big" wins with 0.5.
  EXPECT_EQ(f[2].curve, 1u);
  EXPECT_NEAR(f[2].loss, 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(f[2].n_opt, 10);
  EXPECT_NEAR(f[2].d_opt, 1000.0 / 60.0, 1e-12);
  // With the bracket rule nothing survives: two runs can never bracket a winner.
  for (const auto& p : loss_envelope(curves, {0, 1}, 1, 1000, 3, true)) EXPECT_FALSE(p.used);
  // A gap no run covers yields no frontier point.
  const std::vector<TrainingCurve> gap{curve("a", 1, {{1, 2.0}, {2, 1.9}}), curve("b", 2, {{50, 1.0}, {100, 0.9}})};
  const auto g = loss_envelope(gap, {0, 1}, 1, 100, 3, false);  // 1, 10, 100
  ASSERT_EQ(g.size(), 2u);
  EXPECT_DOUBLE_EQ(g[0].c, 1);
  EXPECT_NEAR(g[1].c, 100, 1e-9);
}

TEST(Envelope, SmoothingIsACentredMovingAverage) {
  const auto cv = curve("r", 1, {{1, 1.0}, {2, 2.0}, {3, 6.0}, {4, 4.0}});
  const auto s = smooth_curve(cv, 3);
  EXPECT_DOUBLE_EQ(s.points[0].loss, 1.0);  // end points keep a window of 1
  EXPECT_DOUBLE_EQ(s.points[1].loss, 3.0);
  EXPECT_DOUBLE_EQ(s.points[2].loss, 4.0);
  EXPECT_DOUBLE_EQ(s.points[3].loss, 4.0);
  const auto lin = smooth_curve(curve("l", 1, {{1, 5}, {2, 4}, {3, 3}, {4, 2}, {5, 1}}), 5);
  for (size_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(lin.points[i].loss, 5.0 - i);
  EXPECT_THROW(smooth_curve(cv, 0), std::invalid_argument);
  // Smoothing noisy curves does not break recovery.
  EnvelopeOptions opt;
  opt.bootstrap = 0;
  opt.smoothing_window = 5;
  const auto r = fit_envelope(family(24, 60, 0, 0.002, 9), opt);
  EXPECT_NEAR(r.scaling.a.value, chinchilla::kA_exp, 0.02);
  EXPECT_EQ(to_json(r)["smoothing_window"], 5);
}

TEST(Envelope, TooFewUsablePointsThrows) {
  const std::vector<TrainingCurve> two{curve("a", 1, {{1, 2.0}, {10, 1.0}}), curve("b", 2, {{1, 3.0}, {10, 2.0}})};
  try {
    fit_envelope(two);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("fewer than 2 usable frontier points"), std::string::npos) << e.what();
  }
  EXPECT_THROW(fit_envelope({}), std::invalid_argument);
  EXPECT_THROW(fit_envelope({curve("a", 1, {{1, 2.0}})}), std::invalid_argument);
  EXPECT_THROW(fit_envelope({curve("a", 1, {{2, 2.0}, {1, 1.0}})}), std::invalid_argument);
}

TEST(Envelope, JsonHasTheDocumentedKeys) {
  EnvelopeOptions opt;
  opt.bootstrap = 20;
  opt.num_compute = 200;
  const auto r = fit_envelope(family(12, 30, 0, 0, 1), opt);
  const auto j = to_json(r);
  EXPECT_EQ(j["approach"], 1);
  EXPECT_EQ(j["method"], "envelope");
  for (const char* key : {"a", "b", "k_N", "k_D"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_DOUBLE_EQ(j[key]["value"].get<double>(),
                     std::string(key) == "a" ? r.scaling.a.value
                     : std::string(key) == "b" ? r.scaling.b.value
                     : std::string(key) == "k_N" ? r.scaling.k_n.value
                                                 : r.scaling.k_d.value);
    EXPECT_EQ(j[key]["ci95"].size(), 2u);
  }
  ASSERT_EQ(j["frontier"].size(), 200u);
  EXPECT_TRUE(j["frontier"][100].contains("N_opt"));
  EXPECT_TRUE(j["frontier"][100]["run_id"].is_string());
  EXPECT_EQ(j["points_used"], r.points_used);
  EXPECT_EQ(j["num_compute"], 200);
}

TEST(EnvelopeLoader, ReadsTokensOrComputeAndGroupsInterleavedRows) {
  const auto t = parse_csv(
      "run,params,tokens,loss\n"
      "a,100,20,3.0\n"
      "b,200,10,3.5\n"
      "a,100,10,3.2\n"
      "b,200,30,2.9\n"
      "a,100,40,2.8\n",
      "curves.csv");
  const auto curves = load_curves(t, "run", "params", "tokens", "loss");
  ASSERT_EQ(curves.size(), 2u);
  EXPECT_EQ(curves[0].id, "a");
  EXPECT_EQ(curves[0].line, 2);
  ASSERT_EQ(curves[0].points.size(), 3u);
  EXPECT_DOUBLE_EQ(curves[0].points[0].tokens, 10);  // sorted
  EXPECT_DOUBLE_EQ(curves[0].points[0].c, 6 * 100 * 10);
  EXPECT_EQ(curves[0].points[0].line, 4);
  EXPECT_DOUBLE_EQ(curves[1].points[1].loss, 2.9);

  const auto tc = parse_csv("run,N,C,loss\nx,10,600,2\nx,10,1200,1.5\n", "c.csv");
  const auto byc = load_curves(tc, "run", "N", "C", "loss", CurveAxis::kCompute);
  EXPECT_DOUBLE_EQ(byc[0].points[1].tokens, 20);
}

TEST(EnvelopeLoader, BadInputNamesFileLineAndColumn) {
  auto expect_error = [](const std::string& csv, long line, const std::string& column, const std::string& words) {
    const auto t = parse_csv("run,N,tokens,loss\n" + csv, "bad.csv");
    try {
      load_curves(t, "run", "N", "tokens", "loss");
      ADD_FAILURE() << "expected InputError for:\n" << csv;
    } catch (const InputError& e) {
      EXPECT_EQ(e.line(), line) << e.what();
      EXPECT_EQ(e.field(), column) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.csv:" + std::to_string(line)), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error("a,1,1,2\na,1,x,1\n", 3, "tokens", "expected a number");
  expect_error("a,1,1,2\na,1,-5,1\n", 3, "tokens", "positive");
  expect_error("a,1,1,2\na,0,2,1\n", 3, "N", "positive");
  expect_error("a,1,1,2\na,1,2,0\n", 3, "loss", "positive");
  expect_error("a,1,1,2\na,2,2,1\n", 3, "N", "one model size");
  expect_error("a,1,1,2\na,1,2,1\nb,1,1,2\n", 4, "run", "only 1 point");
  expect_error("a,1,1,2\na,1,2,1\na,1,1,1.5\n", 4, "tokens", "repeats");
  expect_error("a,1,1,2\n,1,2,1\n", 3, "run", "empty run id");
  // A missing column is reported with the table's own "did you mean" message.
  const auto t = parse_csv("run,N,tokens,loss\na,1,1,2\n", "bad.csv");
  EXPECT_THROW(load_curves(t, "run", "N", "tokenz", "loss"), InputError);
}
