// The rollout backtest that chooses the pilot study's headline law: on synthetic IsoFLOP sweeps
// drawn from a known law it picks that law, its scores are those of fits on the lower budgets
// alone, and the held-out run's outcome cannot change the choice.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "scalinglab/fit/fitter.h"
#include "scalinglab/fit/law.h"
#include "scalinglab/fit/synthetic.h"
#include "scalinglab/sweep/rollout_backtest.h"
#include "scalinglab/sweep/self_validation.h"

namespace fit = scalinglab::fit;
namespace sweep = scalinglab::sweep;

namespace {

// Hoffmann et al. 2022 eq. 10, written out here (not the library's law) as the truth.
double chinchilla_truth(double n, double d) { return 1.69 + 406.4 / std::pow(n, 0.34) + 410.7 / std::pow(d, 0.28); }

// Kaplan et al. 2020 eq. 1.5 with their Table 2 / §1.2 constants: L = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D.
double kaplan_truth(double n, double d) {
  const double alpha_n = 0.076, alpha_d = 0.095, n_c = 8.8e13, d_c = 5.4e13;
  return std::pow(std::pow(n_c / n, alpha_n / alpha_d) + d_c / d, alpha_d);
}

struct Sweep {
  fit::Dataset data;
  std::vector<double> budgets;  // per run
};

// An IsoFLOP sweep like the pilot's: `budgets` log-spaced budgets in [c_min, c_max], 5 sizes per
// budget spanning 3x each side of sqrt(C/120), loss = truth·exp(σ·z).
Sweep isoflop_sweep(double (*truth)(double, double), int budgets, double sigma, uint64_t seed, double c_min = 1e17,
                    double c_max = 1e20) {
  Sweep s;
  s.data.source = "synthetic";
  s.data.has_n = s.data.has_d = s.data.has_c = true;
  fit::NormalStream z(seed);
  for (int b = 0; b < budgets; ++b) {
    const double c = c_min * std::pow(c_max / c_min, budgets == 1 ? 0.0 : b / double(budgets - 1));
    const double n_star = std::sqrt(c / 120);
    for (int i = 0; i < 5; ++i) {
      const double n = n_star * std::pow(3.0, (i - 2) / 2.0);
      const double d = c / (6 * n);
      s.data.runs.push_back({n, d, c, 0, truth(n, d) * std::exp(sigma * z.next()), static_cast<long>(s.data.runs.size() + 2)});
      s.budgets.push_back(c);
    }
  }
  return s;
}

const sweep::LawBacktest& candidate(const sweep::Backtest& b, const std::string& law) {
  for (const auto& l : b.by_law)
    if (l.law == law) return l;
  throw std::runtime_error("no candidate " + law);
}

// Mean |relative error| on `target` of `law` fitted to `train` — the reference, computed here.
double reference_error(const std::string& law, const fit::Dataset& all, const std::vector<size_t>& train,
                       const std::vector<size_t>& target) {
  fit::Dataset t = all;
  t.runs.clear();
  for (size_t i : train) t.runs.push_back(all.runs[i]);
  fit::FitOptions fo;
  fo.bootstrap = 0;
  for (size_t i : target) fo.at_points.push_back(all.runs[i]);
  fit::FittedLaw rep = fit::fit(*fit::make_law(law), t, fo);
  double sum = 0;
  for (size_t i = 0; i < target.size(); ++i)
    sum += std::fabs(rep.at_points[i].loss.value - all.runs[target[i]].loss) / all.runs[target[i]].loss;
  return sum / static_cast<double>(target.size());
}

std::vector<size_t> range(size_t from, size_t to) {
  std::vector<size_t> v;
  for (size_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST(RolloutBacktest, RunsFromHoffmannsLawPickChinchilla) {
  for (uint64_t seed : {1, 2}) {
    Sweep s = isoflop_sweep(chinchilla_truth, 5, 0.003, seed);
    sweep::Backtest b = sweep::rollout_backtest(s.data, s.budgets);
    EXPECT_EQ(b.chosen, "chinchilla") << "seed " << seed << ": " << sweep::to_json(b).dump();
    EXPECT_EQ(b.grouping, "budget");
    // The noise alone is 0.3%: the true form predicts the next budget about that well.
    EXPECT_LT(candidate(b, "chinchilla").mean_abs_rel_error, 0.01);
  }
}

TEST(RolloutBacktest, RunsFromKaplansEquation15PickKaplanND) {
  for (uint64_t seed : {1, 2}) {
    Sweep s = isoflop_sweep(kaplan_truth, 5, 0.003, seed);
    sweep::Backtest b = sweep::rollout_backtest(s.data, s.budgets);
    EXPECT_EQ(b.chosen, "kaplan-nd") << "seed " << seed << ": " << sweep::to_json(b).dump();
    EXPECT_LT(candidate(b, "kaplan-nd").mean_abs_rel_error, 0.01);
  }
}

TEST(RolloutBacktest, ScoresAreThoseOfFitsOnTheLowerBudgetsAlone) {
  Sweep s = isoflop_sweep(chinchilla_truth, 5, 0.01, 7);
  sweep::Backtest b = sweep::rollout_backtest(s.data, s.budgets);
  // Five budgets of five runs: rollout 1 fits budgets 1-4 and predicts 5, rollout 2 fits 1-3 and predicts 4.
  ASSERT_EQ(b.budgets, 5);
  ASSERT_EQ(b.rollouts.size(), 2u);
  EXPECT_EQ(b.rollouts[0].train_budgets, 4);
  EXPECT_EQ(b.rollouts[0].train_runs, 20);
  EXPECT_EQ(b.rollouts[0].target_runs, 5);
  EXPECT_DOUBLE_EQ(b.rollouts[0].target_budget, s.budgets[20]);
  EXPECT_EQ(b.rollouts[1].train_budgets, 3);
  EXPECT_DOUBLE_EQ(b.rollouts[1].target_budget, s.budgets[15]);
  for (const char* law : {"chinchilla", "kaplan-nd"}) {
    const auto& c = candidate(b, law);
    ASSERT_EQ(c.rollout_errors.size(), 2u);
    const double r1 = reference_error(law, s.data, range(0, 20), range(20, 25));
    const double r2 = reference_error(law, s.data, range(0, 15), range(15, 20));
    EXPECT_NEAR(c.rollout_errors[0], r1, 1e-9 * r1) << law;
    EXPECT_NEAR(c.rollout_errors[1], r2, 1e-9 * r2) << law;
    EXPECT_NEAR(c.mean_abs_rel_error, (r1 + r2) / 2, 1e-9) << law;  // equal-sized rollouts: the pooled mean
    // Not an in-sample score: a fit that also saw the predicted runs errs differently on them.
    EXPECT_GT(std::fabs(reference_error(law, s.data, range(0, 25), range(20, 25)) - r1), 1e-6 * r1) << law;
  }
  // The combination predicts the mean of the two laws: its error is at most their mean error.
  const auto& mix = candidate(b, "mean of chinchilla and kaplan-nd");
  EXPECT_LE(mix.mean_abs_rel_error,
            (candidate(b, "chinchilla").mean_abs_rel_error + candidate(b, "kaplan-nd").mean_abs_rel_error) / 2 + 1e-12);
  double best = INFINITY;
  std::string argmin;
  for (const auto& l : b.by_law)
    if (l.mean_abs_rel_error < best) best = l.mean_abs_rel_error, argmin = l.law;
  EXPECT_EQ(b.chosen, argmin);
}

TEST(RolloutBacktest, SecondRolloutOnlyFromFourBudgetsAndNoneBelowThree) {
  Sweep four = isoflop_sweep(chinchilla_truth, 4, 0.003, 1);
  EXPECT_EQ(sweep::rollout_backtest(four.data, four.budgets).rollouts.size(), 2u);
  Sweep three = isoflop_sweep(chinchilla_truth, 3, 0.003, 1);
  sweep::Backtest b3 = sweep::rollout_backtest(three.data, three.budgets);
  ASSERT_EQ(b3.rollouts.size(), 1u);
  EXPECT_EQ(b3.rollouts[0].train_budgets, 2);
  Sweep two = isoflop_sweep(chinchilla_truth, 2, 0.003, 1);
  sweep::Backtest b2 = sweep::rollout_backtest(two.data, two.budgets);
  EXPECT_TRUE(b2.rollouts.empty());
  EXPECT_EQ(b2.chosen, "");
  EXPECT_NE(b2.note.find("2 budgets"), std::string::npos) << b2.note;
  for (const auto& l : b2.by_law) EXPECT_TRUE(std::isnan(l.mean_abs_rel_error)) << l.law;
}

TEST(RolloutBacktest, WithoutDesignBudgetsGroupsByCompute) {
  Sweep s = isoflop_sweep(kaplan_truth, 4, 0.003, 5);
  // Spread each budget's compute by up to 3% (rounding D to whole steps does that), and drop the
  // budgets: grouping by C within 5% finds the same four budgets.
  for (size_t i = 0; i < s.data.runs.size(); ++i) {
    s.data.runs[i].d *= 1 + 0.007 * static_cast<double>(i % 5);
    s.data.runs[i].c = 6 * s.data.runs[i].n * s.data.runs[i].d;
  }
  sweep::Backtest by_budget = sweep::rollout_backtest(s.data, s.budgets);
  sweep::Backtest by_compute = sweep::rollout_backtest(s.data, std::vector<double>(s.budgets.size(), 0.0));
  EXPECT_EQ(by_compute.grouping, "compute");
  EXPECT_EQ(by_compute.budgets, 4);
  ASSERT_EQ(by_compute.by_law.size(), by_budget.by_law.size());
  for (size_t i = 0; i < by_budget.by_law.size(); ++i)
    EXPECT_DOUBLE_EQ(by_compute.by_law[i].mean_abs_rel_error, by_budget.by_law[i].mean_abs_rel_error);
  EXPECT_THROW(sweep::rollout_backtest(s.data, {1e17}), std::invalid_argument);
}

TEST(RolloutBacktest, JsonRoundTrip) {
  Sweep s = isoflop_sweep(chinchilla_truth, 4, 0.01, 3);
  sweep::Backtest b = sweep::rollout_backtest(s.data, s.budgets);
  sweep::Backtest back = sweep::backtest_from_json(nlohmann::json::parse(sweep::to_json(b).dump()));
  EXPECT_EQ(back.rule, b.rule);
  EXPECT_EQ(back.chosen, b.chosen);
  EXPECT_EQ(back.budgets, 4);
  ASSERT_EQ(back.rollouts.size(), b.rollouts.size());
  EXPECT_EQ(back.rollouts[1].train_runs, b.rollouts[1].train_runs);
  ASSERT_EQ(back.by_law.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.by_law[i].law, b.by_law[i].law);
    EXPECT_EQ(back.by_law[i].mean_abs_rel_error, b.by_law[i].mean_abs_rel_error);
    EXPECT_EQ(back.by_law[i].rollout_errors, b.by_law[i].rollout_errors);
  }
}

// predict_heldout: what is recorded before the held-out run trains.
TEST(SelfValidation, TheBacktestsChoiceIsTheHeadlineAndTheHeldOutRunCannotChangeIt) {
  for (auto [truth, law, other] : {std::tuple{&kaplan_truth, "kaplan-nd", "chinchilla"},
                                   std::tuple{&chinchilla_truth, "chinchilla", "kaplan-nd"}}) {
    Sweep s = isoflop_sweep(truth, 5, 0.003, 11);
    sweep::ValidationResult v;
    v.compute = 4e20;
    v.n = std::sqrt(v.compute / 120);
    v.d = v.compute / (6 * v.n);
    sweep::ValidationOptions o;
    o.bootstrap = 30;
    sweep::predict_heldout(v, s.data, s.budgets, o);
    ASSERT_TRUE(v.backtest);
    ASSERT_EQ(v.by_law.size(), 2u);
    EXPECT_EQ(v.by_law[0].law, "chinchilla");
    EXPECT_EQ(v.backtest->chosen, law);
    EXPECT_EQ(v.headline, law);
    const sweep::LawPrediction& chosen = v.by_law[v.by_law[0].law == law ? 0 : 1];
    const sweep::LawPrediction& rejected = v.by_law[v.by_law[0].law == law ? 1 : 0];
    EXPECT_EQ(v.predicted.value, chosen.predicted.value);
    EXPECT_EQ(v.pi95.lo, chosen.pi95.lo);
    EXPECT_EQ(v.pi95.hi, chosen.pi95.hi);
    // The held-out run lands exactly on the rejected law's prediction: the headline stays.
    v.actual = rejected.predicted.value;
    sweep::choose_headline(v, sweep::ValidationOptions::Headline::kBacktest);
    EXPECT_EQ(v.headline, law);
    EXPECT_DOUBLE_EQ(v.rel_error, (chosen.predicted.value - v.actual) / v.actual);
    // Forced: Chinchilla, whatever the backtest says (and the backtest is kept).
    sweep::choose_headline(v, sweep::ValidationOptions::Headline::kChinchilla);
    EXPECT_EQ(v.headline, "chinchilla");
    EXPECT_EQ(v.predicted.value, v.by_law[0].predicted.value);
    EXPECT_EQ(v.backtest->chosen, law);
    (void)other;
  }
}

// validate_sweep fits the Chinchilla law once and asks that object for N_opt and the prediction:
// predict_heldout given a fit asks it instead of refitting. Given a fit of OTHER runs, the recorded
// prediction is that fit's answer, not a refit on the sweep's runs.
TEST(SelfValidation, AGivenChinchillaFitIsAskedNotRefitted) {
  Sweep s = isoflop_sweep(chinchilla_truth, 4, 0.003, 5);
  Sweep other_runs = isoflop_sweep(kaplan_truth, 4, 0.003, 6);
  fit::FitOptions fo;
  fo.bootstrap = 30;
  const fit::FittedLaw other = fit::fit(fit::make_law("chinchilla"), other_runs.data, fo);
  const fit::FittedLaw own = fit::fit(fit::make_law("chinchilla"), s.data, fo);
  sweep::ValidationResult v;
  v.n = 1e9;
  v.d = 2e10;
  const fit::Run at{v.n, v.d, 6 * v.n * v.d, 0, 1, 0};
  ASSERT_GT(std::fabs(other.loss(at).loss.value - own.loss(at).loss.value), 1e-3);  // the two fits differ
  sweep::ValidationOptions o;
  o.bootstrap = 30;
  sweep::predict_heldout(v, s.data, s.budgets, o, &other);
  ASSERT_FALSE(v.by_law.empty());
  EXPECT_EQ(v.by_law[0].law, "chinchilla");
  EXPECT_EQ(v.by_law[0].predicted.value, other.loss(at).loss.value);
  EXPECT_EQ(v.by_law[0].pi95.lo, other.loss(at).pi95.lo);
  // Without a fit it fits the sweep's runs itself.
  sweep::ValidationResult w = v;
  sweep::predict_heldout(w, s.data, s.budgets, o);
  EXPECT_EQ(w.by_law[0].predicted.value, own.loss(at).loss.value);
}

TEST(SelfValidation, NoBacktestWithTwoBudgetsFallsBackToChinchilla) {
  Sweep s = isoflop_sweep(kaplan_truth, 2, 0.003, 1);
  sweep::ValidationResult v;
  v.n = 1e9;
  v.d = 2e10;
  sweep::ValidationOptions o;
  o.bootstrap = 20;
  sweep::predict_heldout(v, s.data, s.budgets, o);
  ASSERT_TRUE(v.backtest);
  EXPECT_EQ(v.backtest->chosen, "");
  EXPECT_EQ(v.headline, "chinchilla");
  EXPECT_EQ(v.predicted.value, v.by_law[0].predicted.value);
  EXPECT_NE(v.headline_reason.find("chose nothing"), std::string::npos) << v.headline_reason;
}

TEST(SelfValidation, ArtifactRoundTripWithBacktestAndOldArtifactsWithout) {
  sweep::ValidationResult v;
  v.by_law = {{"chinchilla", {1.30, NAN, NAN, 1.25, 1.36}, {1.20, 1.45}, NAN},
              {"kaplan-nd", {1.20, NAN, NAN, 1.17, 1.22}, {1.10, 1.30}, NAN}};
  sweep::Backtest b;
  b.grouping = "budget";
  b.budgets = 5;
  b.rollouts = {{2e12, 4, 20, 5}, {6e11, 3, 15, 5}};
  b.by_law = {{"chinchilla", 0.031, 0.031, {0.04, 0.022}, ""},
              {"kaplan-nd", 0.012, -0.01, {0.014, 0.01}, ""},
              {"mean of chinchilla and kaplan-nd", 0.011, 0.01, {0.012, 0.01}, ""}};
  b.chosen = "mean of chinchilla and kaplan-nd";
  v.backtest = b;
  v.actual = 1.24;
  sweep::choose_headline(v, sweep::ValidationOptions::Headline::kBacktest);
  EXPECT_EQ(v.headline, "mean of chinchilla and kaplan-nd");
  EXPECT_DOUBLE_EQ(v.predicted.value, 1.25);  // the mean, with the union of the intervals
  EXPECT_EQ(v.predicted.lo, 1.17);
  EXPECT_EQ(v.pi95.hi, 1.45);
  EXPECT_TRUE(v.inside_pi95);
  EXPECT_NE(v.headline_reason.find("1.10%"), std::string::npos) << v.headline_reason;

  auto back = sweep::validation_from_json(nlohmann::json::parse(sweep::to_json(v).dump()));
  ASSERT_TRUE(back.backtest);
  EXPECT_EQ(back.backtest->chosen, b.chosen);
  EXPECT_EQ(back.backtest->by_law[1].mean_abs_rel_error, 0.012);
  EXPECT_EQ(back.backtest->by_law[0].rollout_errors, (std::vector<double>{0.04, 0.022}));
  EXPECT_EQ(back.headline, v.headline);
  EXPECT_EQ(back.headline_reason, v.headline_reason);
  sweep::choose_headline(back, sweep::ValidationOptions::Headline::kBacktest);
  EXPECT_EQ(back.predicted.value, v.predicted.value);

  // An artifact recorded before the backtest existed: it loads, and its recorded headline stays.
  auto old = nlohmann::json::parse(R"({"key": "heldout-C8.0e+12-N2.59e+05", "headline": "mean of chinchilla and kaplan-nd",
    "by_law": [{"law": "chinchilla", "predicted_loss": 1.30, "ci95": [1.25, 1.36], "pi95": [1.20, 1.45], "rel_error": 0.05},
               {"law": "kaplan-nd", "predicted_loss": 1.20, "ci95": [1.17, 1.22], "pi95": [1.10, 1.30], "rel_error": -0.03}],
    "predicted_loss": 1.25, "ci95": [1.17, 1.36], "pi95": [1.10, 1.45], "actual_loss": 1.24, "rel_error": 0.008,
    "inside_pi95": true, "status": "done", "compute_factor": 4})");
  auto o = sweep::validation_from_json(old);
  EXPECT_FALSE(o.backtest);
  sweep::choose_headline(o, sweep::ValidationOptions::Headline::kBacktest);
  EXPECT_EQ(o.headline, "mean of chinchilla and kaplan-nd");
  EXPECT_DOUBLE_EQ(o.predicted.value, 1.25);
  EXPECT_NE(o.headline_reason.find("before the rollout backtest"), std::string::npos);
  EXPECT_FALSE(sweep::to_json(o).contains("backtest"));
  sweep::choose_headline(o, sweep::ValidationOptions::Headline::kChinchilla);
  EXPECT_EQ(o.predicted.value, 1.30);
}
