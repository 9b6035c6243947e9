// I, B, L and the midpoint crossing on small hand-computed tables, including the edge cases the
// header promises (pure step → ±inf, flat → 0, lower-is-better negation, ties, even medians).
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <vector>

#include "scalinglab/emergence/breakthrough.h"

using namespace scalinglab::emergence;

namespace {
// Takes an initializer_list, not a std::vector by value: g++ 12.2 with -march=native (AVX-512)
// miscompiles `f(std::vector<double>{1, 1, 0, 0})`-style temporaries into {1, 1, 1, 1} (a
// constant store folded to one broadcast); building the vector from the list is compiled right.
Breakthrough bt(std::initializer_list<double> l, bool hib = true) {
  const std::vector<double> y(l);
  return breakthrough(y, hib);
}
}  // namespace

TEST(Breakthrough, HandComputedRisingCurve) {
  // steps 0.1, 0.2, 0.6 → squared 0.01, 0.04, 0.36: median 0.04, mean 0.41/3.
  Breakthrough b = bt({0, 0.1, 0.3, 0.9});
  EXPECT_DOUBLE_EQ(b.I, 0.9);
  EXPECT_NEAR(b.B, 0.9 / 0.2, 1e-12);
  EXPECT_NEAR(b.L, 0.9 / std::sqrt(0.41 / 3), 1e-12);
  EXPECT_EQ(b.n, 4);
  EXPECT_NEAR(sharpness(b), 4.5 / 3, 1e-12);
}

TEST(Breakthrough, EvenNumberOfStepsTakesTheMeanOfTheMiddleTwo) {
  // squared steps 0.01, 0.04, 0.09, 0.16: median (0.04 + 0.09)/2 = 0.065, mean 0.075.
  Breakthrough b = bt({0, 0.1, 0.3, 0.6, 1.0});
  EXPECT_NEAR(b.I, 1.0, 1e-15);
  EXPECT_NEAR(b.B, 1 / std::sqrt(0.065), 1e-12);
  EXPECT_NEAR(b.L, 1 / std::sqrt(0.075), 1e-12);
}

TEST(Breakthrough, StraightLineGivesNMinusOne) {
  Breakthrough b = bt({0, 1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(b.B, 4);
  EXPECT_DOUBLE_EQ(b.L, 4);
  EXPECT_DOUBLE_EQ(sharpness(b), 1);
}

TEST(Breakthrough, LowerIsBetterIsNegatedFirst) {
  // An edit distance falling 4 → 3.1 is the rising curve above, shifted and negated.
  Breakthrough b = bt({4, 3.9, 3.7, 3.1}, false);
  EXPECT_NEAR(b.I, 0.9, 1e-12);
  EXPECT_NEAR(b.B, 4.5, 1e-9);
  EXPECT_NEAR(b.L, 0.9 / std::sqrt(0.41 / 3), 1e-9);
  // The same numbers read as higher-is-better get worse with scale: I < 0.
  EXPECT_NEAR(bt({4, 3.9, 3.7, 3.1}, true).I, -0.9, 1e-12);
}

TEST(Breakthrough, PureStepIsInfiniteAndLinearityIsSqrtOfSteps) {
  Breakthrough up = bt({0, 0, 0, 1, 1});
  EXPECT_EQ(up.I, 1);
  EXPECT_TRUE(std::isinf(up.B) && up.B > 0);
  EXPECT_DOUBLE_EQ(up.L, 2);  // 1/sqrt(1/4)
  Breakthrough down = bt({1, 1, 0, 0});
  EXPECT_EQ(down.I, -1);
  EXPECT_TRUE(std::isinf(down.B) && down.B < 0);
}

TEST(Breakthrough, FlatCurveIsZero) {
  Breakthrough b = bt({0.5, 0.5, 0.5});
  EXPECT_EQ(b.I, 0);
  EXPECT_EQ(b.B, 0);
  EXPECT_EQ(b.L, 0);
  EXPECT_EQ(sharpness(b), 0);
}

TEST(Breakthrough, TiesResolveToTheFirstExtreme) {
  // max 1 first at index 1, min 0 first at index 0: I = +1; all squared steps 1.
  Breakthrough b = bt({0, 1, 0, 1});
  EXPECT_EQ(b.I, 1);
  EXPECT_EQ(b.B, 1);
  EXPECT_EQ(b.L, 1);
  // max first at 0, min first at 1: I = −1.
  EXPECT_EQ(bt({1, 0, 1, 0}).I, -1);
}

TEST(Breakthrough, FewerThanTwoPointsIsUndefined) {
  EXPECT_TRUE(std::isnan(bt({0.3}).B));
  EXPECT_TRUE(std::isnan(sharpness(bt({0.3}))));
}

TEST(Midpoint, LinearInterpolationInLog10X) {
  const std::vector<double> lx = {1, 2, 3, 4};
  // level 0.45 between 0.3 (at 3) and 0.9 (at 4): 3 + 0.15/0.6.
  EXPECT_NEAR(midpoint_crossing(lx, std::vector<double>{0, 0.1, 0.3, 0.9}), 3.25, 1e-12);
  // A falling curve crosses its own midpoint 3.55 at the same place.
  EXPECT_NEAR(midpoint_crossing(lx, std::vector<double>{4, 3.9, 3.7, 3.1}), 3.25, 1e-12);
  // The FIRST crossing of a non-monotone curve: level 0.5 between 0 and 0.6.
  EXPECT_NEAR(midpoint_crossing(lx, std::vector<double>{0, 0.6, 0.2, 1.0}), 1 + 0.5 / 0.6, 1e-12);
  // A point exactly at the level is the crossing.
  EXPECT_NEAR(midpoint_crossing(lx, std::vector<double>{0, 0.5, 1, 1}), 2, 1e-12);
  // Unevenly spaced scales: interpolation is in log10 x.
  EXPECT_NEAR(midpoint_crossing(std::vector<double>{1, 1.5, 4}, std::vector<double>{0, 0.2, 1}), 1.5 + 2.5 * 0.3 / 0.8, 1e-12);
  EXPECT_EQ(first_index_after_crossing(std::vector<double>{0, 0.1, 0.3, 0.9}), 3);
}

TEST(Midpoint, FlatHasNone) {
  EXPECT_TRUE(std::isnan(midpoint_crossing(std::vector<double>{1, 2, 3}, std::vector<double>{0.2, 0.2, 0.2})));
  EXPECT_EQ(first_index_after_crossing(std::vector<double>{0.2, 0.2, 0.2}), -1);
}

TEST(Sharpness, ContinuousMetricsAreMeasuredOnLogLoss) {
  // A task loss halving at every scale is a power law: log-linear, sharpness exactly 1, although
  // its raw B (front-loaded change) is larger.
  MetricInfo m = metric_info("loglik_per_token");
  std::vector<double> y = {-4, -2, -1, -0.5, -0.25};
  SharpnessSeries s = sharpness_series(m, y);
  EXPECT_EQ(s.basis, "log_loss");
  EXPECT_NEAR(sharpness(breakthrough(s.y, s.higher_is_better)), 1, 1e-12);
  // Raw: steps 2, 1, 0.5, 0.25 → squared median (1 + 0.25)/2, I = 3.75.
  EXPECT_NEAR(sharpness(breakthrough(y, true)), 3.75 / std::sqrt(0.625) / 4, 1e-12);
  // Discrete metrics as they are.
  EXPECT_EQ(sharpness_series(metric_info("exact_match"), y).basis, "value");
  // An edit distance that reaches 0 falls back to the value.
  EXPECT_EQ(sharpness_series(metric_info("edit_distance"), std::vector<double>{3, 1, 0}).basis, "value");
}
