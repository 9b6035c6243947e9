// The FittedLaw object: its questions answered from θ and the bootstrap replicates (held against
// the Chinchilla closed forms of Hoffmann et al. 2022 eq. 4, against finite perturbations for the
// numeric optimum of Kaplan et al. 2020 eq. 1.5, and against each other: the inverse questions
// invert the forward ones), and the fit JSON round trip: load_fit(to_json(f)) is the same object,
// field for field and answer for answer.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "common/temp_dir.h"
#include "scalinglab/fit/fit_json.h"
#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/frontier.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/io/input_error.h"

using namespace scalinglab::fit;
using scalinglab::testing::TempDir;

namespace {

const ChinchillaParams kTruth{1.8172, 482.01, 2085.43, 0.3478, 0.3658};  // Besiroglu et al. 2024

Dataset data() {
  SyntheticDesign d;  // 6 IsoFLOP budgets 1e17..1e20, 8 sizes each, 1.5% noise
  d.seed = 11;
  return make_synthetic(kTruth, d);
}

FitOptions options() {
  FitOptions o;
  o.bootstrap = 60;
  o.seed = 4;
  o.threads = 2;
  o.holdout_top_compute = 8;  // a holdout section in the JSON as well
  o.at_compute = {1e21, 1e22};
  o.at_points = {Run{1e9, 2e10, 6 * 1e9 * 2e10, 0, 1, 0}};
  // A modest start grid keeps the test quick; the full grid is exercised elsewhere.
  for (double a : {4.0, 7.0})
    for (double b : {4.0, 7.0})
      for (double e : {0.0, 0.6})
        for (double al : {0.2, 0.5})
          for (double be : {0.2, 0.5}) o.starts.push_back({a, b, e, al, be});
  return o;
}

ChinchillaParams params_of(const Law& law, const std::vector<double>& theta) {
  auto p = law.to_public(theta.data());
  return {p[0], p[1], p[2], p[3], p[4]};
}

void expect_same(const Estimate& a, const Estimate& b, const std::string& what) {
  auto same = [](double x, double y) { return (std::isnan(x) && std::isnan(y)) || x == y; };
  EXPECT_TRUE(same(a.value, b.value)) << what << ": " << a.value << " vs " << b.value;
  EXPECT_TRUE(same(a.se, b.se)) << what;
  EXPECT_TRUE(same(a.lo, b.lo)) << what;
  EXPECT_TRUE(same(a.hi, b.hi)) << what;
}

}  // namespace

TEST(FittedLaw, ChinchillaQuestionsMatchTheClosedFormsAtEveryReplicate) {
  FittedLaw f = fit(make_law("chinchilla"), data(), options());
  ASSERT_TRUE(f.model);
  ASSERT_GE(f.bootstrap_theta.size(), 50u);
  ASSERT_TRUE(f.has_optimum());
  const double c = 3e21;
  const ComputePrediction o = f.optimum(c);
  const ChinchillaParams p = params_of(*f.model, f.theta);
  EXPECT_NEAR(o.n_opt.value, chinchilla_n_opt(p, c), 1e-9 * o.n_opt.value);
  EXPECT_NEAR(o.d_opt.value, chinchilla_d_opt(p, c), 1e-9 * o.d_opt.value);
  EXPECT_NEAR(o.loss.value, p.loss(chinchilla_n_opt(p, c), chinchilla_d_opt(p, c)), 1e-12);
  // The interval is the replicates' own closed-form optima: its ends are among their range.
  double lo = INFINITY, hi = 0;
  for (const auto& t : f.bootstrap_theta) {
    const double n = chinchilla_n_opt(params_of(*f.model, t), c);
    lo = std::min(lo, n), hi = std::max(hi, n);
  }
  EXPECT_GE(o.n_opt.lo, lo);
  EXPECT_LE(o.n_opt.hi, hi);
  EXPECT_LT(o.n_opt.lo, o.n_opt.value);
  EXPECT_GT(o.n_opt.hi, o.n_opt.value);
  // The inverse: the least compute for the optimum's loss is that budget, and N at it is N_opt.
  const Estimate c_back = f.compute_for_loss(o.loss.value);
  EXPECT_NEAR(c_back.value, c, 1e-8 * c);
  EXPECT_NEAR(f.n_for_loss(o.loss.value).value, o.n_opt.value, 1e-7 * o.n_opt.value);
  EXPECT_TRUE(std::isnan(f.compute_for_loss(p.E * 0.99).value));  // below the irreducible loss
  // loss(at) is the law at θ, and the fit's own at_points / at_compute are these same answers.
  const scalinglab::fit::Run at{1e9, 2e10, 6 * 1e9 * 2e10, 0, 1, 0};
  const PointPrediction lp = f.loss(at);
  EXPECT_NEAR(lp.loss.value, p.loss(1e9, 2e10), 1e-12);
  EXPECT_LT(lp.pi95.lo, lp.loss.lo);  // a single run scatters beyond the law's own uncertainty
  EXPECT_GT(lp.pi95.hi, lp.loss.hi);
  ASSERT_EQ(f.at_points.size(), 1u);
  expect_same(f.at_points[0].loss, lp.loss, "at_points");
  ASSERT_EQ(f.at_compute.size(), 2u);
  expect_same(f.at_compute[1].n_opt, f.optimum(1e22).n_opt, "at_compute");
  // A point the law cannot evaluate is refused, naming the variable.
  EXPECT_THROW(f.loss(scalinglab::fit::Run{0, 2e10, 0, 0, 1, 0}), std::invalid_argument);
}

TEST(FittedLaw, KaplanJointFormHasANumericOptimumThatNoNeighbourBeats) {
  FitOptions o;
  o.bootstrap = 30;
  o.seed = 2;
  o.threads = 2;
  FittedLaw f = fit(make_law("kaplan-nd"), data(), o);
  ASSERT_TRUE(f.has_optimum());
  const double c = 1e21;
  const ComputePrediction opt = f.optimum(c);
  ASSERT_TRUE(std::isfinite(opt.n_opt.value));
  EXPECT_NEAR(opt.n_opt.value * opt.d_opt.value * 6, c, 1e-9 * c);  // on C = 6ND
  auto loss_at = [&](double n) { return f.loss(scalinglab::fit::Run{n, c / (6 * n), c, 0, 1, 0}).loss.value; };
  EXPECT_NEAR(loss_at(opt.n_opt.value), opt.loss.value, 1e-12);
  for (double factor : {1.02, 1 / 1.02, 1.3, 1 / 1.3}) EXPECT_LE(opt.loss.value, loss_at(opt.n_opt.value * factor));
  EXPECT_NEAR(f.compute_for_loss(opt.loss.value).value, c, 1e-6 * c);
  // An object without its law answers nothing (and says so).
  EXPECT_THROW(FittedLaw{}.optimum(c), std::invalid_argument);
}

TEST(FittedLaw, JsonRoundTripGivesTheIdenticalObject) {
  TempDir dir;
  const FittedLaw f = fit(make_law("chinchilla"), data(), options());
  ASSERT_TRUE(f.holdout);
  const std::string path = (dir.path / "fit.json").string();
  std::ofstream(path) << to_json(f).dump(2);
  const FittedLaw g = load_fit(path);
  // Every field the JSON carries, and the JSON itself, identical.
  EXPECT_EQ(to_json(g), to_json(f));
  EXPECT_EQ(g.law, f.law);
  EXPECT_EQ(g.formula, f.formula);
  EXPECT_EQ(g.method, f.method);
  EXPECT_EQ(g.source, f.source);
  EXPECT_EQ(g.param_names, f.param_names);
  EXPECT_EQ(g.internal_names, f.internal_names);
  EXPECT_EQ(g.theta, f.theta);
  EXPECT_EQ(g.bootstrap_theta, f.bootstrap_theta);
  EXPECT_EQ(g.log_residuals(), f.log_residuals());
  EXPECT_EQ(g.residuals.size(), f.residuals.size());
  EXPECT_EQ(g.residuals.back().line, f.residuals.back().line);
  EXPECT_EQ(g.residuals.back().predicted, f.residuals.back().predicted);
  EXPECT_EQ(g.warnings, f.warnings);
  EXPECT_EQ(g.seed, f.seed);
  EXPECT_EQ(g.bootstrap_done, f.bootstrap_done);
  EXPECT_EQ(g.quality.aic, f.quality.aic);
  EXPECT_EQ(g.quality.points, f.quality.points);
  EXPECT_EQ(g.range.c.max, f.range.c.max);
  EXPECT_EQ(g.range.loss.min, f.range.loss.min);
  ASSERT_EQ(g.params.size(), f.params.size());
  for (size_t i = 0; i < f.params.size(); ++i) expect_same(g.params[i], f.params[i], f.param_names[i]);
  ASSERT_EQ(g.derived.size(), f.derived.size());
  for (size_t i = 0; i < f.derived.size(); ++i) {
    EXPECT_EQ(g.derived[i].name, f.derived[i].name);
    expect_same(g.derived[i].estimate, f.derived[i].estimate, f.derived[i].name);
  }
  ASSERT_EQ(g.holdout->rows.size(), f.holdout->rows.size());
  expect_same(g.holdout->rows[0].predicted, f.holdout->rows[0].predicted, "holdout");
  EXPECT_EQ(g.holdout->rows[0].inside_pi95, f.holdout->rows[0].inside_pi95);
  // Every question answers identically.
  ASSERT_TRUE(g.model);
  for (double c : {1e18, 1e21, 1e24}) {
    const auto a = f.optimum(c), b = g.optimum(c);
    expect_same(a.n_opt, b.n_opt, "N_opt");
    expect_same(a.d_opt, b.d_opt, "D_opt");
    expect_same(a.loss, b.loss, "loss_opt");
    EXPECT_EQ(a.orders_past_data, b.orders_past_data);
  }
  for (double target : {2.0, 2.3, 3.0}) {
    expect_same(f.compute_for_loss(target), g.compute_for_loss(target), "compute_for_loss");
    expect_same(f.n_for_loss(target), g.n_for_loss(target), "n_for_loss");
  }
  const scalinglab::fit::Run at{3e8, 7e9, 6 * 3e8 * 7e9, 0, 1, 0};
  const auto pa = f.loss(at), pb = g.loss(at);
  expect_same(pa.loss, pb.loss, "loss");
  EXPECT_EQ(pa.pi95.lo, pb.pi95.lo);
  EXPECT_EQ(pa.pi95.hi, pb.pi95.hi);
}

TEST(FittedLaw, ASweepSummaryIsNotAFit) {
  TempDir dir;
  const std::string path = (dir.path / "summary.json").string();
  std::ofstream(path) << R"({"schema": "scalinglab.summary/1", "fits": {}})";
  try {
    load_fit(path);
    FAIL() << "a summary was read as a fit";
  } catch (const scalinglab::io::InputError& e) {
    EXPECT_NE(std::string(e.what()).find((dir.path / "fits" / "chinchilla.json").string()), std::string::npos) << e.what();
  }
}
