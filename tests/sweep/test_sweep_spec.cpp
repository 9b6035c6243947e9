#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "scalinglab/sweep/self_validation.h"
#include "scalinglab/sweep/sweep_spec.h"

using namespace scalinglab;
using namespace scalinglab::sweep;

TEST(ModelFamily, ShapesHitTheTargetSizeAndKeepTheAspectRatio) {
  FamilyRule rule;
  for (double n : {3e4, 1e5, 1e6, 1e7, 2e7}) {
    auto m = shape_for_params(n, rule);
    EXPECT_NO_THROW(m.validate());
    double ratio = static_cast<double>(m.params_total()) / n;
    // Widths come in steps of 16, coarse only at the very small end (a 1-layer model of 30K).
    EXPECT_GT(ratio, 0.8) << n;
    EXPECT_LT(ratio, 1.2) << n;
    EXPECT_EQ(m.d_model % rule.d_multiple, 0);
    EXPECT_EQ(m.d_model % m.n_head, 0);
    double aspect = static_cast<double>(m.d_model) / m.n_layer;
    EXPECT_GE(aspect, rule.aspect / 2) << n;
    EXPECT_LE(aspect, rule.aspect * 2) << n;
  }
  // Larger targets never give smaller models.
  EXPECT_LT(shape_for_params(1e5, rule).params_total(), shape_for_params(1e6, rule).params_total());
}

TEST(HyperRule, LearningRateShrinksWithWidthWithinBounds) {
  HyperRule h;
  EXPECT_DOUBLE_EQ(h.lr_for_width(128), 3e-3);
  EXPECT_NEAR(h.lr_for_width(512), 3e-3 / 2, 1e-12);  // (128/512)^0.5
  EXPECT_GT(h.lr_for_width(32), h.lr_for_width(64));
  EXPECT_LE(h.lr_for_width(1), h.lr_max);
}

TEST(SweepPlan, IsoFlopDesignSpendsEachBudget) {
  SweepSpec s;
  s.design.c_min = 1e12;
  s.design.c_max = 1e14;
  s.design.budgets = 3;
  s.design.per_budget = 5;
  auto runs = plan(s);
  std::set<std::string> keys;
  std::set<double> budgets;
  for (const auto& r : runs) {
    keys.insert(r.key);
    budgets.insert(r.budget);
    // D is rounded up to whole steps of 2048 tokens: C = 6ND within one step's worth.
    EXPECT_GE(r.c, r.budget * (1 - 1e-9));
    EXPECT_LE(r.c, 6 * r.n * (r.budget / (6 * r.n) + 2048) * (1 + 1e-9));
    EXPECT_EQ(r.spec.tokens_per_step(), 2048u);
    EXPECT_NEAR(r.spec.schedule.peak_lr, s.hyper.lr_for_width(r.spec.model.d_model), 1e-15);
  }
  EXPECT_EQ(keys.size(), runs.size());
  EXPECT_EQ(budgets.size(), 3u);
  EXPECT_EQ(runs.size(), 15u);  // five distinct sizes in every budget
}

TEST(SweepPlan, GridDesignAndJsonRoundTrip) {
  auto j = nlohmann::json::parse(R"({"name": "g", "design": {"kind": "grid", "n_min": 3e4, "n_max": 1e6,
                                     "sizes": 4, "tokens_per_param": [10, 40]}, "seeds": [1, 2]})");
  SweepSpec s = sweep_from_json(j);
  auto runs = plan(s);
  EXPECT_EQ(runs.size(), 4u * 2 * 2);
  EXPECT_EQ(to_json(sweep_from_json(to_json(s))), to_json(s));
}

TEST(SweepPlan, InconsistentSpecsAreRefusedWithTheField) {
  auto expect_error = [](const std::string& json, const std::string& needle) {
    try {
      plan(sweep_from_json(nlohmann::json::parse(json)));
      FAIL() << json;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(R"({"desing": {}})", "unknown field 'desing'");
  expect_error(R"({"design": {"kind": "grid", "sizes": 2}})", "at least 3");
  expect_error(R"({"design": {"kind": "lattice"}})", "design.kind");
  expect_error(R"({"hyper": {"batch_tokens": 1000}})", "multiple of family.ctx");
  expect_error(R"({"design": {"c_min": 1e6, "c_max": 1e7}})", "less than one batch");
  expect_error(R"({"design": {"kind": "grid", "n_min": 1e5, "n_max": 1.01e5, "sizes": 3}})", "distinct model sizes");
  expect_error(R"({"seeds": "one"})", "'seeds'");
  expect_error(R"({"hyper": {"beta2": 1.0}})", "hyper.beta2");
  expect_error(R"({"hyper": {"beta2": -0.1}})", "hyper.beta2");
  expect_error(R"({"hyper": {"beta2_max": 1.5}})", "hyper.beta2_max");
  expect_error(R"({"hyper": {"beta2_run_frac": -1}})", "hyper.beta2_run_frac");
}

TEST(SweepPlan, Beta2ReachesEveryRunAndRoundTrips) {
  SweepSpec s = sweep_from_json(nlohmann::json::parse(R"({"hyper": {"beta2": 0.99}, "design": {"c_min": 2e10, "c_max": 2e11,
                                                          "budgets": 2, "per_budget": 3}})"));
  for (const auto& r : plan(s)) EXPECT_EQ(r.spec.adamw.beta2, 0.99) << r.key;
  EXPECT_EQ(sweep_from_json(to_json(s)).hyper.beta2, 0.99);
  EXPECT_EQ(SweepSpec{}.hyper.beta2, 0.95);  // the default leaves existing specs unchanged
}

TEST(HyperRule, Beta2RunLengthRuleAveragesOverAFixedFractionOfTheRun) {
  HyperRule h;
  h.beta2 = 0.95;
  h.beta2_max = 0.99;
  EXPECT_EQ(h.beta2_for_steps(100000), 0.95);  // off by default
  h.beta2_run_frac = 0.01;
  EXPECT_EQ(h.beta2_for_steps(500), 0.95);           // horizon 5 steps: below the floor
  EXPECT_DOUBLE_EQ(h.beta2_for_steps(4000), 0.975);  // horizon 40 steps = 1/(1 - beta2)
  EXPECT_EQ(h.beta2_for_steps(1000000), 0.99);       // capped
  for (uint64_t steps : {2000u, 3000u, 7000u}) {
    const double b = h.beta2_for_steps(steps);
    EXPECT_NEAR(1.0 / (1.0 - b), 0.01 * steps, 1e-6) << steps;  // inside the bounds: exactly the horizon
  }
}

TEST(SweepPlan, Beta2RuleGivesLongRunsTheLongerHorizon) {
  SweepSpec s = sweep_from_json(nlohmann::json::parse(R"({"hyper": {"beta2": 0.95, "beta2_run_frac": 0.01, "beta2_max": 0.99,
      "batch_tokens": 512}, "family": {"ctx": 64}, "design": {"c_min": 2e10, "c_max": 2e12, "budgets": 3, "per_budget": 3}})"));
  double lo = 1, hi = 0;
  for (const auto& r : plan(s)) {
    EXPECT_EQ(r.spec.adamw.beta2, s.hyper.beta2_for_steps(r.spec.steps())) << r.key;
    lo = std::min(lo, r.spec.adamw.beta2);
    hi = std::max(hi, r.spec.adamw.beta2);
  }
  EXPECT_EQ(lo, 0.95);  // the design holds both short runs and long ones
  EXPECT_GT(hi, 0.97);
  EXPECT_EQ(sweep_from_json(to_json(s)).hyper.beta2_run_frac, 0.01);
  EXPECT_EQ(sweep_from_json(to_json(s)).hyper.beta2_max, 0.99);
}

TEST(SweepPlan, ShortRunsGetSmallerBatchesUntilTheyHaveMinSteps) {
  SweepSpec s;
  s.family.ctx = 64;
  s.hyper.batch_tokens = 1024;  // 16 sequences
  s.hyper.min_steps = 300;
  s.hyper.min_batch_seqs = 2;
  s.design.c_min = 2e10;
  s.design.c_max = 2e12;
  s.design.budgets = 3;
  s.design.per_budget = 4;
  s.design.center_tokens_per_param = 40;
  bool shrunk = false, full = false;
  for (const auto& r : plan(s)) {
    const uint32_t b = r.spec.batch;
    // A power-of-two fraction of the full batch, never below the floor...
    EXPECT_EQ(16u % b, 0u) << r.key;
    EXPECT_GE(b, 2u) << r.key;
    // ...and as large as the rule allows: the full batch if it already gives min_steps, else the
    // largest halving that does (or the floor).
    if (b < 16) {
      shrunk = true;
      run::RunSpec twice = r.spec;
      twice.batch = b * 2;
      EXPECT_LT(twice.steps(), 300u) << r.key;
      if (b > 2) EXPECT_GE(r.spec.steps(), 300u) << r.key;
    } else {
      full = true;
    }
    EXPECT_EQ(r.spec.checkpoint_every, std::max<uint64_t>(1, r.spec.steps() / 10));
  }
  EXPECT_TRUE(shrunk);
  EXPECT_TRUE(full);
  // The IsoFLOP centre moves with center_tokens_per_param: the middle size of a budget sits near
  // sqrt(C / (6·40)).
  s.design.budgets = 1;
  s.design.c_min = s.design.c_max = 1e14;
  s.design.per_budget = 3;
  auto runs = plan(s);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_NEAR(std::log(runs[1].n / std::sqrt(1e14 / 240)), 0, 0.35);
  // The rules survive the JSON round trip.
  SweepSpec back = sweep_from_json(to_json(s));
  EXPECT_EQ(back.hyper.min_steps, 300u);
  EXPECT_EQ(back.hyper.min_batch_seqs, 2u);
  EXPECT_EQ(back.design.center_tokens_per_param, 40);
}

TEST(SelfValidation, ACombinedHeadlineIsTheMeanOfTheLawsWithTheUnionOfTheirIntervals) {
  scalinglab::sweep::ValidationResult v;
  v.by_law = {{"chinchilla", {1.30, NAN, NAN, 1.25, 1.36}, {1.20, 1.45}, NAN},
              {"kaplan-nd", {1.20, NAN, NAN, 1.17, 1.22}, {1.10, 1.30}, NAN}};
  ASSERT_TRUE(scalinglab::sweep::form_headline(v, "mean of chinchilla and kaplan-nd"));
  EXPECT_DOUBLE_EQ(v.predicted.value, 1.25);
  EXPECT_EQ(v.predicted.lo, 1.17);
  EXPECT_EQ(v.predicted.hi, 1.36);
  EXPECT_EQ(v.pi95.lo, 1.10);
  EXPECT_EQ(v.pi95.hi, 1.45);
  EXPECT_EQ(v.headline, "mean of chinchilla and kaplan-nd");
  v.actual = 1.24;
  scalinglab::sweep::form_headline(v, v.headline);
  EXPECT_DOUBLE_EQ(v.rel_error, (1.25 - 1.24) / 1.24);
  EXPECT_TRUE(v.inside_pi95);
  ASSERT_TRUE(scalinglab::sweep::form_headline(v, "kaplan-nd"));
  EXPECT_EQ(v.predicted.value, 1.20);
  EXPECT_EQ(v.pi95.lo, 1.10);
  EXPECT_EQ(v.pi95.hi, 1.30);
  EXPECT_DOUBLE_EQ(v.rel_error, (1.20 - 1.24) / 1.24);
  // An unknown candidate changes nothing.
  EXPECT_FALSE(scalinglab::sweep::form_headline(v, "broken"));
  EXPECT_EQ(v.headline, "kaplan-nd");
  // Round trip through the stored artifact.
  auto back = scalinglab::sweep::validation_from_json(scalinglab::sweep::to_json(v));
  ASSERT_EQ(back.by_law.size(), 2u);
  EXPECT_EQ(back.by_law[1].law, "kaplan-nd");
  EXPECT_EQ(back.by_law[1].predicted.lo, 1.17);
  EXPECT_EQ(back.by_law[1].pi95.hi, 1.30);
  EXPECT_EQ(back.headline, "kaplan-nd");
}

TEST(ModelFamily, MinLayersAndRopeShapeEveryMember) {
  FamilyRule rule;
  rule.aspect = 16;
  rule.head_dim = 16;
  rule.d_multiple = 8;
  rule.ctx = 64;
  rule.min_layers = 2;
  rule.rope = true;
  for (double n : {8e3, 2e4, 5e4, 1e5, 3e5}) {
    auto m = shape_for_params(n, rule);
    EXPECT_NO_THROW(m.validate());
    EXPECT_GE(m.n_layer, 2) << n;
    EXPECT_TRUE(m.rope) << n;
    EXPECT_EQ(m.d_model % rule.d_multiple, 0);
  }
  // With the default min_layers the old rule holds: the smallest target gets one layer.
  FamilyRule one = rule;
  one.min_layers = 1;
  EXPECT_EQ(shape_for_params(8e3, one).n_layer, 1);
  // The spec carries both fields and refuses a depth floor above the ceiling.
  SweepSpec s;
  s.family = rule;
  SweepSpec back = sweep_from_json(to_json(s));
  EXPECT_EQ(back.family.min_layers, 2);
  EXPECT_TRUE(back.family.rope);
  nlohmann::json bad = to_json(s);
  bad["family"]["min_layers"] = 30;
  EXPECT_THROW(plan(sweep_from_json(bad)), std::invalid_argument);
  // Defaults are not written, so stored specs of earlier sweeps still compare equal.
  EXPECT_FALSE(to_json(SweepSpec{})["family"].contains("min_layers"));
  EXPECT_FALSE(to_json(SweepSpec{})["family"].contains("rope"));
}
