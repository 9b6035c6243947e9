#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "scalinglab/train/schedule.h"

using namespace scalinglab::train;

namespace {
ScheduleConfig cfg(ScheduleKind k, uint64_t warmup, uint64_t total) {
  ScheduleConfig c;
  c.kind = k;
  c.peak_lr = 6e-4;
  c.warmup_steps = warmup;
  c.total_steps = total;
  return c;
}
}  // namespace

TEST(Schedule, WarmupIsLinearAndReachesPeakOnItsLastStep) {
  auto c = cfg(ScheduleKind::kCosine, 100, 1000);
  EXPECT_DOUBLE_EQ(learning_rate(c, 0), 6e-4 / 100);
  EXPECT_DOUBLE_EQ(learning_rate(c, 49), 6e-4 * 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(c, 99), 6e-4);
  EXPECT_DOUBLE_EQ(learning_rate(c, 100), 6e-4);  // cosine starts at peak
}

TEST(Schedule, CosineEndsAtTenPercentOfPeakExactlyAtTheRunLength) {
  auto c = cfg(ScheduleKind::kCosine, 100, 1100);
  const double peak = 6e-4, lo = 6e-5;
  // Halfway through the decay the cosine term is 0: midpoint of peak and floor.
  EXPECT_NEAR(learning_rate(c, 600), lo + (peak - lo) * 0.5, 1e-15);
  // A quarter in: cos(pi/4).
  EXPECT_NEAR(learning_rate(c, 350), lo + (peak - lo) * 0.5 * (1 + std::cos(std::numbers::pi / 4)), 1e-15);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1100), lo);
  EXPECT_GT(learning_rate(c, 1099), lo);
  EXPECT_NEAR(learning_rate(c, 1099), lo + (peak - lo) * 0.5 * (1 + std::cos(std::numbers::pi * 0.999)), 1e-18);
  EXPECT_DOUBLE_EQ(learning_rate(c, 5000), lo);
  for (uint64_t s = 100; s < 1100; ++s) ASSERT_LE(learning_rate(c, s + 1), learning_rate(c, s));
  c.final_frac = 0.0;
  EXPECT_DOUBLE_EQ(learning_rate(c, 1100), 0.0);
}

TEST(Schedule, ConstantHoldsPeakAfterWarmup) {
  auto c = cfg(ScheduleKind::kConstant, 10, 1000);
  EXPECT_DOUBLE_EQ(learning_rate(c, 4), 6e-4 * 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(c, 10), 6e-4);
  EXPECT_DOUBLE_EQ(learning_rate(c, 999), 6e-4);
  auto n = cfg(ScheduleKind::kConstant, 0, 5);
  EXPECT_DOUBLE_EQ(learning_rate(n, 0), 6e-4);
}

TEST(Schedule, WsdLinearCooldownOverTheLastFraction) {
  auto c = cfg(ScheduleKind::kWsd, 100, 1000);
  c.cooldown_frac = 0.2;
  c.cooldown_shape = CooldownShape::kLinear;
  EXPECT_DOUBLE_EQ(learning_rate(c, 500), 6e-4);
  EXPECT_DOUBLE_EQ(learning_rate(c, 799), 6e-4);  // stable phase ends at 1000 - 200
  EXPECT_DOUBLE_EQ(learning_rate(c, 800), 6e-4);  // cooldown progress 0
  EXPECT_NEAR(learning_rate(c, 900), 3e-4, 1e-18);
  EXPECT_NEAR(learning_rate(c, 950), 1.5e-4, 1e-18);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1000), 0.0);  // default WSD floor is 0
}

TEST(Schedule, WsdOneMinusSqrtCooldown) {
  auto c = cfg(ScheduleKind::kWsd, 0, 1000);
  c.cooldown_frac = 0.2;
  c.cooldown_shape = CooldownShape::kOneMinusSqrt;
  EXPECT_DOUBLE_EQ(learning_rate(c, 0), 6e-4);
  EXPECT_NEAR(learning_rate(c, 850), 6e-4 * 0.5, 1e-18);  // progress 1/4: 1 - sqrt(1/4)
  EXPECT_NEAR(learning_rate(c, 818), 6e-4 * (1 - std::sqrt(0.09)), 1e-18);
  // 1-sqrt drops faster early than linear at the same progress.
  auto lin = c;
  lin.cooldown_shape = CooldownShape::kLinear;
  EXPECT_LT(learning_rate(c, 850), learning_rate(lin, 850));
  c.final_frac = 0.1;
  EXPECT_NEAR(learning_rate(c, 850), 6e-5 + (6e-4 - 6e-5) * 0.5, 1e-18);
  EXPECT_DOUBLE_EQ(learning_rate(c, 1000), 6e-5);
}

TEST(Schedule, InvalidConfigsAreRejected) {
  EXPECT_THROW(validate(cfg(ScheduleKind::kCosine, 2000, 1000)), std::invalid_argument);
  auto w = cfg(ScheduleKind::kWsd, 900, 1000);
  w.cooldown_frac = 0.2;
  try {
    validate(w);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("exceed the run length of 1000"), std::string::npos) << e.what();
  }
  w.warmup_steps = 800;
  EXPECT_NO_THROW(validate(w));
  w.cooldown_frac = 0;
  EXPECT_THROW(validate(w), std::invalid_argument);
  auto z = cfg(ScheduleKind::kConstant, 0, 0);
  EXPECT_THROW(validate(z), std::invalid_argument);
  EXPECT_THROW(parse_schedule_kind("cos"), std::invalid_argument);
  EXPECT_EQ(parse_cooldown_shape("1-sqrt"), CooldownShape::kOneMinusSqrt);
  EXPECT_EQ(to_string(parse_schedule_kind("wsd")), "wsd");
}
