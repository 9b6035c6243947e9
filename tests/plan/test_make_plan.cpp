// plan::make_plan assembles the whole plan in the library: its allocations are the planner's own
// (Hoffmann et al. 2022 eq. 4 for a Chinchilla-form preset), the budgets from hardware are the
// hardware model's, and every error names the option field it is about.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "scalinglab/fit/frontier.h"
#include "scalinglab/plan/make_plan.h"

namespace plan = scalinglab::plan;
namespace fit = scalinglab::fit;

namespace {

std::string error_of(const plan::PlanOptions& o) {
  try {
    plan::make_plan(o);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(MakePlan, BudgetsTargetAndFrontierAreThePlannersOwn) {
  plan::PlanOptions o;
  o.law = "epoch";
  o.compute = {5.88e23};
  o.target_loss = 2.1;
  o.gpu = "h100";
  o.usd_per_gpu_hour = 2.5;
  o.frontier = true;
  o.frontier_points = 5;
  const plan::PlanReport r = plan::make_plan(o);
  const fit::ChinchillaParams p{1.8172, 482.01, 2085.43, 0.3478, 0.3658};  // Besiroglu et al. 2024
  ASSERT_EQ(r.plans.size(), 2u);
  EXPECT_EQ(r.plans[0].origin, "compute");
  EXPECT_NEAR(r.plans[0].allocation.n.value, fit::chinchilla_n_opt(p, 5.88e23), 1e-9 * 7.3e10);
  ASSERT_TRUE(r.target);
  EXPECT_EQ(r.plans[1].origin, "target-loss");
  // The target's compute is the least that reaches 2.1: its optimal loss is 2.1.
  EXPECT_NEAR(fit::chinchilla_loss_opt(p, r.target->compute.value), 2.1, 1e-9);
  ASSERT_TRUE(r.plans[0].cost);
  EXPECT_NEAR(r.plans[0].cost->gpu_hours, 5.88e23 / (r.hardware->peak_flops * 0.4) / 3600, 1e-6);
  EXPECT_EQ(r.frontier.size(), 5u);
}

TEST(MakePlan, ErrorsNameTheOptionField) {
  plan::PlanOptions o;
  o.law = "epoch";
  EXPECT_EQ(error_of(o).rfind("compute: ", 0), 0u) << error_of(o);  // no budget
  o.target_loss = 1.5;                                               // below E = 1.8172
  EXPECT_EQ(error_of(o).rfind("target_loss: ", 0), 0u) << error_of(o);
  o.target_loss = 0;
  o.compute = {1e22};
  o.mfu = 1.5;
  EXPECT_EQ(error_of(o).rfind("mfu: ", 0), 0u) << error_of(o);
  o.mfu = 0.4;
  o.gpu = "tpu9";
  EXPECT_EQ(error_of(o).rfind("gpu: ", 0), 0u) << error_of(o);
  o.gpu.clear();
  o.r_d_star = 3;
  EXPECT_EQ(error_of(o).rfind("r_d_star: ", 0), 0u) << error_of(o);
  o.r_d_star = NAN;
  o.law = "no-such-preset";
  EXPECT_EQ(error_of(o).rfind("law: ", 0), 0u) << error_of(o);
}
