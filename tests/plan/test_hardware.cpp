#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/plan/hardware.h"

using namespace scalinglab;

TEST(Hardware, PresetsCarryTheDatasheetPeaks) {
  // Dense BF16 FLOP/s as listed in docs/PLAN.md (NVIDIA quotes BF16 with 2:4 sparsity: halved).
  const std::vector<std::pair<std::string, double>> expected = {
      {"a100", 312e12}, {"h100", 989.5e12}, {"h200", 989.5e12}, {"b200", 2.25e15}, {"mi300x", 1307.4e12}};
  ASSERT_EQ(plan::gpu_presets().size(), expected.size());
  for (const auto& [name, peak] : expected) {
    auto g = plan::find_gpu(name);
    ASSERT_TRUE(g) << name;
    EXPECT_DOUBLE_EQ(g->peak_flops, peak) << name;
    EXPECT_FALSE(g->datasheet.empty());
  }
  EXPECT_TRUE(plan::find_gpu("H100"));  // case-insensitive
  EXPECT_FALSE(plan::find_gpu("v100"));
}

TEST(Hardware, HoursAndDollarsMatchAHandComputation) {
  // 1e24 FLOPs on H100s at 40% MFU: 1e24 / (989.5e12 · 0.4) s = 701,813.49 GPU-hours (by hand);
  // on 1,024 GPUs that is 28.557 days; at $2.50 per GPU-hour, $1,754,533.72.
  plan::Hardware hw{plan::find_gpu("h100")->peak_flops, 0.4, 1024, 2.5};
  auto c = plan::hardware_cost(hw, 1e24);
  EXPECT_NEAR(c.gpu_hours, 701813.486, 1e-3);
  EXPECT_NEAR(c.wall_hours / 24, 28.5568639, 1e-6);
  EXPECT_NEAR(c.usd, 1754533.715, 1e-3);
  // 5e23 on A100s at 35%: 1,271,876.27 GPU-hours; MI300X at 50% and $3.10: $658,643.96.
  EXPECT_NEAR(plan::hardware_cost({312e12, 0.35, 1, NAN}, 5e23).gpu_hours, 1271876.272, 1e-3);
  auto m = plan::hardware_cost({plan::find_gpu("mi300x")->peak_flops, 0.5, 8, 3.1}, 5e23);
  EXPECT_NEAR(m.usd, 658643.958, 1e-3);
  EXPECT_TRUE(std::isnan(plan::hardware_cost({312e12, 0.4, 1, NAN}, 1e20).usd));  // no price, no cost
}

TEST(Hardware, BudgetsInHoursOrDollarsConvertToTheSameCompute) {
  plan::Hardware hw{plan::find_gpu("b200")->peak_flops, 0.45, 64, 4.0};
  for (double c : {1e20, 3e23, 1e26}) {
    auto cost = plan::hardware_cost(hw, c);
    EXPECT_NEAR(plan::compute_for_gpu_hours(hw, cost.gpu_hours) / c, 1, 1e-12);
    EXPECT_NEAR(plan::compute_for_usd(hw, cost.usd) / c, 1, 1e-12);
  }
  // $4,000 at $4/GPU-hour is 1,000 GPU-hours.
  EXPECT_DOUBLE_EQ(plan::compute_for_usd(hw, 4000), plan::compute_for_gpu_hours(hw, 1000));
}

TEST(Hardware, ValidationRejectsImpossibleSettings) {
  plan::Hardware ok{312e12, 0.4, 8, NAN};
  EXPECT_FALSE(plan::validate(ok));
  for (double mfu : {0.0, -0.1, 1.01, double(NAN)}) {
    auto bad = ok;
    bad.mfu = mfu;
    ASSERT_TRUE(plan::validate(bad)) << mfu;
    EXPECT_EQ(plan::validate(bad)->rfind("mfu: ", 0), 0u);  // names the option field
  }
  for (double gpus : {0.0, 1.5, -8.0}) {
    auto g = ok;
    g.gpus = gpus;
    EXPECT_TRUE(plan::validate(g)) << gpus;
  }
  auto p = ok;
  p.usd_per_gpu_hour = -1;
  EXPECT_TRUE(plan::validate(p));
}
