// Acceptance: Schaeffer, Miranda & Koyejo 2023's toy model. Per-token cross-entropy
// CE(N) = (N/c)^α with α < 0, per-token probability p = exp(−CE), exact match on a target of L
// tokens p^L, token edit distance L·(1 − p). The table is built here from those formulas; the
// analysis must recover α and c from the continuous metric, predict exact match for L = 1…5,
// call exact match (where it is sharp) "sharp but explained by the metric" and log-likelihood
// "smooth", and show B of exact match growing with L while edit distance's B does not.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>

#include "scalinglab/emergence/analyze.h"
#include "scalinglab/io/table.h"

using namespace scalinglab;
using namespace scalinglab::emergence;

namespace {

constexpr double kAlpha = -0.5;
const double kC = std::pow(10.0, 9.5);
constexpr int kScales = 11;  // N = 1e7 … 1e11 in steps of 0.4 decades

double n_at(int i) { return 1e7 * std::pow(1e4, double(i) / (kScales - 1)); }
double ce(double n) { return std::pow(n / kC, kAlpha); }

std::string toy_csv() {
  std::ostringstream s;
  s.precision(17);
  s << "model,params,compute,task,metric,value,answer_len\n";
  for (int i = 0; i < kScales; ++i) {
    const double n = n_at(i), p = std::exp(-ce(n)), c = 6 * n * 20 * n;
    const std::string m = std::string("m") + std::to_string(i);
    s << m << "," << n << "," << c << ",toy,token_accuracy," << p << ",\n";
    s << m << "," << n << "," << c << ",toy,loglik_per_token," << -ce(n) << ",\n";
    for (int L = 1; L <= 5; ++L) {
      s << m << "," << n << "," << c << ",toy,exact_match," << std::pow(p, L) << "," << L << "\n";
      s << m << "," << n << "," << c << ",toy,edit_distance," << L * (1 - p) << "," << L << "\n";
    }
  }
  return s.str();
}

const AnalysisResult& toy() {
  static const AnalysisResult r = [] {
    AnalyzeOptions o;
    o.x = ScaleAxis::kParams;
    o.bootstrap = 50;
    return analyze_table(io::parse_csv(toy_csv(), "toy.csv"), o);
  }();
  return r;
}

const CurveAnalysis& curve(const std::string& metric, int L = 0) {
  for (const auto& c : toy().curves)
    if (c.curve.metric == metric && c.curve.answer_len == L) return c;
  throw std::runtime_error(metric);
}

}  // namespace

TEST(SchaefferToy, RecoversAlphaAndCFromTheContinuousMetric) {
  // Task loss −loglik = CE = (N/c)^α = c^(−α)·N^α: the power law's b = −α, unit scale = c.
  const CurveAnalysis& ll = curve("loglik_per_token");
  ASSERT_TRUE(ll.power_law.fitted);
  EXPECT_NEAR(-ll.power_law.b, kAlpha, 1e-9);
  EXPECT_NEAR(ll.power_law.unit_scale() / kC, 1, 1e-8);
  // The per-token accuracy's loss-like quantity −ln p is the same CE.
  const CurveAnalysis& tok = curve("token_accuracy");
  ASSERT_TRUE(tok.power_law.fitted);
  EXPECT_NEAR(-tok.power_law.b, kAlpha, 1e-9);
  EXPECT_NEAR(tok.power_law.unit_scale() / kC, 1, 1e-8);
}

TEST(SchaefferToy, PredictsExactMatchForEveryLength) {
  // From the recovered law: EM_L(N) = exp(−L·(N/ĉ)^α̂), against the table's values.
  const CurveAnalysis& ll = curve("loglik_per_token");
  const double alpha = -ll.power_law.b, c = ll.power_law.unit_scale();
  for (int L = 1; L <= 5; ++L) {
    const CurveAnalysis& em = curve("exact_match", L);
    for (const auto& p : em.curve.points)
      EXPECT_NEAR(std::exp(-L * std::pow(p.x / c, alpha)), p.value, 1e-9) << "L=" << L << " N=" << p.x;
    // And the mirage test's own prediction p^L from the token accuracy.
    ASSERT_GE(em.mirage, 0);
    const MirageTest& m = toy().mirage[static_cast<size_t>(em.mirage)];
    EXPECT_EQ(m.answer_len, L);
    EXPECT_EQ(m.source_metric, "token_accuracy");
    EXPECT_TRUE(m.tracks);
    EXPECT_LT(m.max_abs_error, 1e-12);
    ASSERT_EQ(m.exact.size(), static_cast<size_t>(kScales));
    ASSERT_EQ(m.edit.size(), static_cast<size_t>(kScales));
    for (const auto& q : m.edit) EXPECT_NEAR(q.predicted, q.measured, 1e-12);
  }
}

TEST(SchaefferToy, ExactMatchSharpButExplainedLogLikelihoodSmooth) {
  // Over 1e7…1e11 exact match with L ≥ 4 is sharp (sharpness 6.6 and 16.5 ≥ 3); L ≤ 3 are not.
  for (int L = 4; L <= 5; ++L) {
    EXPECT_EQ(curve("exact_match", L).shape, "sharp") << L;
    EXPECT_EQ(curve("exact_match", L).verdict, kVerdictExplained) << L;
  }
  EXPECT_EQ(curve("exact_match", 1).verdict, kVerdictSmooth);
  EXPECT_EQ(curve("loglik_per_token").verdict, kVerdictSmooth);
  EXPECT_NEAR(curve("loglik_per_token").sharpness, 1, 1e-9);  // a power law on log q is a line
  EXPECT_EQ(curve("token_accuracy").verdict, kVerdictSmooth);
  for (int L = 1; L <= 5; ++L) EXPECT_EQ(curve("edit_distance", L).verdict, kVerdictSmooth);
  ASSERT_EQ(toy().verdicts.size(), 1u);
  EXPECT_EQ(toy().verdicts[0].verdict, kVerdictExplained);
  EXPECT_EQ(toy().verdicts[0].task, "toy");
}

TEST(SchaefferToy, BreakthroughnessGrowsWithLForExactMatchNotForEditDistance) {
  double prev = -1;
  const double b_edit1 = curve("edit_distance", 1).bt.B;
  for (int L = 1; L <= 5; ++L) {
    const double b = curve("exact_match", L).bt.B;
    EXPECT_GT(b, prev) << "L=" << L;
    prev = b;
    // L·(1 − p): B is scale-free, so every L gives the B of the per-token error.
    EXPECT_NEAR(curve("edit_distance", L).bt.B / b_edit1, 1, 1e-9) << "L=" << L;
  }
  EXPECT_GT(curve("exact_match", 5).bt.B, 10 * curve("exact_match", 1).bt.B);
}

TEST(SchaefferToy, ContinuousMetricsForecastTheJumpExactMatchDoesNot) {
  // The per-token metrics are exact power laws: predicted from the first 3 scales, long before
  // the jump; a logistic fitted to exact match's pre-jump half cannot see it coming.
  const CurveAnalysis& ll = curve("loglik_per_token");
  EXPECT_TRUE(ll.forecast.all_within);
  EXPECT_EQ(ll.forecast.min_prefix, 3);
  EXPECT_EQ(ll.forecast.lead_scales, ll.forecast.pre_jump - 3);
  EXPECT_GT(ll.forecast.lead_scales, 3);
  EXPECT_EQ(curve("exact_match", 5).forecast.lead_scales, -1);
}
