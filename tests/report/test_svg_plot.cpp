// Axes people read numbers off: log ticks at powers of ten, nice linear steps, scales that map
// data to pixels, the colour map and number formatting the tick labels use.
#include <gtest/gtest.h>

#include <cmath>

#include "scalinglab/report/escape.h"
#include "scalinglab/report/svg_plot.h"

namespace scalinglab::report {
namespace {

std::vector<double> majors(const std::vector<Tick>& t) {
  std::vector<double> v;
  for (const auto& x : t) if (x.major) v.push_back(x.value);
  return v;
}

TEST(LogTicks, MajorsAtEveryPowerOfTenLabelledAsPowers) {
  auto t = log_ticks(1e17, 1e21);
  auto m = majors(t);
  ASSERT_EQ(m.size(), 5u);
  for (int k = 0; k < 5; ++k) EXPECT_DOUBLE_EQ(m[k], std::pow(10.0, 17 + k));
  EXPECT_EQ(t.front().label, "10¹⁷");
  // Minors are the 1-2-5 sequence, unlabelled over four decades.
  int minors = 0;
  for (const auto& x : t) {
    if (x.major) continue;
    ++minors;
    EXPECT_TRUE(x.label.empty());
    double mant = x.value / std::pow(10.0, std::floor(std::log10(x.value) + 1e-12));
    EXPECT_TRUE(std::fabs(mant - 2) < 1e-9 || std::fabs(mant - 5) < 1e-9) << x.value;
  }
  EXPECT_EQ(minors, 8);
}

TEST(LogTicks, UnderTwoDecadesTheMinorsAreLabelledToo) {
  auto t = log_ticks(3e5, 8e6);
  std::vector<std::string> labels;
  for (const auto& x : t) labels.push_back(x.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"5×10⁵", "10⁶", "2×10⁶", "5×10⁶"}));
}

TEST(LogTicks, WideRangesLabelEveryOtherDecade) {
  auto t = log_ticks(1, 1e10);
  ASSERT_EQ(majors(t).size(), 11u);
  EXPECT_EQ(t[0].label, "10⁰");
  for (const auto& x : t) {
    if (std::fabs(x.value - 10) < 1e-9) {
      EXPECT_TRUE(x.label.empty());
    }
    if (std::fabs(x.value - 100) < 1e-9) {
      EXPECT_EQ(x.label, "10²");
    }
  }
}

TEST(LogTicks, NarrowerThanADecadeFallsBackToNiceLinearValues) {
  // A loss axis: no power of ten inside, so powers alone would leave it unlabelled.
  auto t = log_ticks(2.1, 4.6);
  std::vector<std::string> labels;
  for (const auto& x : t) labels.push_back(x.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"2.5", "3", "3.5", "4", "4.5"}));
}

TEST(LogTicks, EmptyForInvalidRanges) {
  EXPECT_TRUE(log_ticks(0, 10).empty());
  EXPECT_TRUE(log_ticks(10, 1).empty());
}

TEST(LinearTicks, NiceStepsOf125TimesAPowerOfTen) {
  EXPECT_DOUBLE_EQ(nice_step(10, 5), 2);
  EXPECT_DOUBLE_EQ(nice_step(1, 6), 0.2);
  EXPECT_DOUBLE_EQ(nice_step(700, 7), 100);
  EXPECT_DOUBLE_EQ(nice_step(0.03, 6), 0.005);
  auto t = linear_ticks(0, 1, 6);
  std::vector<std::string> labels;
  for (const auto& x : t) labels.push_back(x.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"0", "0.2", "0.4", "0.6", "0.8", "1"}));
}

TEST(LinearTicks, SymmetricRangeHasAnExactZeroAndNoDrift) {
  auto t = linear_ticks(-0.031, 0.031, 6);
  std::vector<std::string> labels;
  for (const auto& x : t) labels.push_back(x.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"-0.03", "-0.02", "-0.01", "0", "0.01", "0.02", "0.03"}));
  EXPECT_EQ(t[3].value, 0.0);
}

TEST(LinearTicks, LargeValuesUseScientificLabels) {
  auto t = linear_ticks(1e21, 5e21, 4);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.front().label, "10²¹");
  EXPECT_EQ(t[1].label, "2×10²¹");
}

TEST(Scale, LinearAndLogMapping) {
  Scale lin{ScaleKind::kLinear, 0, 10, 100, 200};
  EXPECT_DOUBLE_EQ(lin.map(5), 150);
  Scale lg{ScaleKind::kLog, 1, 100, 0, 200};
  EXPECT_NEAR(lg.map(10), 100, 1e-9);
  Scale y{ScaleKind::kLog, 1e17, 1e21, 400, 0};  // a y axis: pixels grow downwards
  EXPECT_NEAR(y.map(1e19), 200, 1e-9);
}

TEST(Scale, PaddedDomainContainsTheData) {
  auto [a, b] = padded_domain(1e17, 1e21, ScaleKind::kLog);
  EXPECT_LT(a, 1e17);
  EXPECT_GT(b, 1e21);
  EXPECT_NEAR(std::log10(1e17 / a), std::log10(b / 1e21), 1e-9);  // symmetric in log space
  auto [c, d] = padded_domain(2, 2, ScaleKind::kLinear);
  EXPECT_LT(c, 2);
  EXPECT_GT(d, 2);
}

TEST(Viridis, EndpointsAndMiddleMatchThePublishedMap) {
  EXPECT_EQ(viridis(0), "#440154");
  EXPECT_EQ(viridis(0.5), "#21908c");
  EXPECT_EQ(viridis(1), "#fde725");
  EXPECT_EQ(viridis(-3), "#440154");  // clamped
  ColorBar bar{"N", 1e6, 1e9, ScaleKind::kLog};
  EXPECT_EQ(color_for(bar, 1e6), "#440154");
  EXPECT_NE(color_for(bar, 1e9), color_for(bar, 1e6));
}

TEST(FormatNumber, PlainDecimalsAndPowersOfTen) {
  EXPECT_EQ(format_number(3.14159), "3.14");
  EXPECT_EQ(format_number(0.01234), "0.0123");
  EXPECT_EQ(format_number(1e21), "10²¹");
  EXPECT_EQ(format_number(1.5e21), "1.5×10²¹");
  EXPECT_EQ(format_number(9.9996e20), "10²¹");  // rounding carries into the exponent
  EXPECT_EQ(format_number(2e-5), "2×10⁻⁵");
  EXPECT_EQ(format_number(NAN), "–");
  EXPECT_EQ(format_number(12345), "12345");
}

TEST(RenderSvg, SkipsPointsALogAxisCannotShowAndEscapesTips) {
  PlotSpec p;
  p.id = "t";
  p.x_scale = p.y_scale = ScaleKind::kLog;
  Series s{.name = "a<b", .markers = true};
  s.points = {{.x = 1, .y = 1, .tip = "x<y & \"z\""}, {.x = -1, .y = 2, .tip = "neg"},
              {.x = 10, .y = NAN, .tip = "nan"}, {.x = 100, .y = 10, .tip = "ok"}};
  p.series = {s};
  std::string svg = render_svg(p);
  EXPECT_NE(svg.find("data-tip=\"x&lt;y &amp; &quot;z&quot;\""), std::string::npos);
  EXPECT_EQ(svg.find("neg"), std::string::npos);
  EXPECT_EQ(svg.find("data-tip=\"nan\""), std::string::npos);
  EXPECT_EQ(svg.find("=\"nan"), std::string::npos);  // no NaN or infinite coordinates
  EXPECT_EQ(svg.find("=\"-nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf\""), std::string::npos);
  EXPECT_NE(svg.find("a&lt;b"), std::string::npos);  // legend entry
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
}

TEST(Escape, AllFiveCharacters) {
  EXPECT_EQ(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain ü"), "plain ü");
}

}  // namespace
}  // namespace scalinglab::report
