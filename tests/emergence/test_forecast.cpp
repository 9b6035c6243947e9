// Forecasts: the larger half from the smaller, the lead before a jump (defined in forecast.h),
// and the two-step task forecast on an exact two-step chain.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "scalinglab/emergence/forecast.h"
#include "scalinglab/io/table.h"

using namespace scalinglab;
using namespace scalinglab::emergence;

namespace {

ResultsTable from_csv(const std::string& csv) { return read_results(io::parse_csv(csv, "f.csv")); }

}  // namespace

TEST(Forecast, PowerLawCurvePredictedAndLeadCounted) {
  // Task loss 5·x^−0.2 at x = 10^1 … 10^8; the jump at log10 x = 5.5: 5 scales before it, 3 after.
  std::ostringstream s;
  s.precision(17);
  s << "model,compute,task,metric,value\n";
  for (int i = 1; i <= 8; ++i) s << "m" << i << "," << std::pow(10.0, i) << ",t,loglik_per_token," << -5 * std::pow(10.0, -0.2 * i) << "\n";
  const Curve c = from_csv(s.str()).curves.at(0);
  CurveForecast f = forecast_curve(c, 5.5);
  EXPECT_EQ(f.method, "power_law");
  EXPECT_EQ(f.fit_points, 4);
  ASSERT_EQ(f.held_out.size(), 4u);
  EXPECT_LT(f.max_abs_error, 1e-12);
  EXPECT_TRUE(f.all_within);
  EXPECT_EQ(f.pre_jump, 5);
  EXPECT_EQ(f.post_jump, 3);
  EXPECT_EQ(f.min_prefix, 3);   // the smallest prefix a power law is fitted to
  EXPECT_EQ(f.lead_scales, 2);  // 5 pre-jump scales − 3 needed
  // No jump: no lead.
  EXPECT_EQ(forecast_curve(c, NAN).lead_scales, -1);
}

TEST(Forecast, JumpUnseenFromAFlatPrefix) {
  // Exact match at 0 for five scales, then 0.5, 0.9, 1: no fit to the flat prefix foresees it.
  const std::string csv =
      "model,compute,task,metric,value\na,1,t,exact_match,0\nb,10,t,exact_match,0\nc,100,t,exact_match,0\n"
      "d,1000,t,exact_match,0\ne,1e4,t,exact_match,0\nf,1e5,t,exact_match,0.5\ng,1e6,t,exact_match,0.9\nh,1e7,t,exact_match,1\n";
  const Curve c = from_csv(csv).curves.at(0);
  CurveForecast f = forecast_curve(c, 4.9);
  EXPECT_EQ(f.method, "logistic");
  EXPECT_FALSE(f.all_within);
  EXPECT_NEAR(f.held_out.at(0).predicted, 0, 1e-12);  // the flat fit predicts 0
  EXPECT_EQ(f.pre_jump, 5);
  EXPECT_EQ(f.lead_scales, -1);
  EXPECT_EQ(f.min_prefix, 0);
}

TEST(Forecast, LogisticPredictsTheRestOnceTheRiseIsSeen) {
  // A noiseless logistic whose rise lies in the smaller half: the larger half is predicted.
  std::ostringstream s;
  s.precision(17);
  s << "model,compute,task,metric,value\n";
  for (int i = 0; i < 10; ++i) {
    const double t = 1 + 0.5 * i;
    s << "m" << i << "," << std::pow(10.0, t) << ",t,exact_match," << 0.05 + 0.9 / (1 + std::exp(-3 * (t - 2.2))) << "\n";
  }
  CurveForecast f = forecast_curve(from_csv(s.str()).curves.at(0), NAN);
  EXPECT_EQ(f.fit_points, 5);
  EXPECT_LT(f.max_abs_error, 1e-6);
}

TEST(TwoStep, ExactChainIsRecovered) {
  // Task loss q = 4·C^−0.05; accuracy = 0.9 + (0.05 − 0.9)/(1 + exp(−12(q − q0))) (falls with loss),
  // q0 placed among the smaller scales so that step 2 sees the rise.
  std::ostringstream s;
  s.precision(17);
  s << "model,compute,task,metric,value\n";
  auto q_at = [](double c) { return 4 * std::pow(c, -0.05); };
  const double q0 = q_at(std::pow(10.0, 19.6));
  auto acc = [&](double q) { return 0.9 + (0.05 - 0.9) / (1 + std::exp(-12 * (q - q0))); };
  for (int i = 0; i < 10; ++i) {
    const double c = std::pow(10.0, 18 + 0.5 * i);
    s << "m" << i << "," << c << ",t,loglik_per_token," << -q_at(c) << "\n";
    s << "m" << i << "," << c << ",t,exact_match," << acc(q_at(c)) << "\n";
  }
  ResultsTable t = from_csv(s.str());
  ASSERT_EQ(t.curves.size(), 2u);
  ForecastOptions o;
  o.bootstrap = 30;
  o.predict_at = {1e24};
  TwoStepForecast f = two_step_forecast(t.curves[0], t.curves[1], o);
  ASSERT_TRUE(f.ok) << f.note;
  EXPECT_EQ(f.models, 10);
  EXPECT_EQ(f.fit_points, 5);
  EXPECT_NEAR(f.step1.b, 0.05, 1e-9);
  EXPECT_NEAR(f.step2.p.x0, q0, 1e-5);
  EXPECT_LT(f.step1_mean_abs_rel_error, 1e-9);
  EXPECT_LT(f.step2_mean_abs_error, 1e-5);
  EXPECT_LT(f.chained_mean_abs_error, 1e-5);
  ASSERT_EQ(f.held_out.size(), 5u);
  for (const auto& p : f.held_out) {
    EXPECT_NEAR(p.accuracy_predicted, p.accuracy_measured, 1e-5);
    EXPECT_LE(p.accuracy_lo, p.accuracy_predicted + 1e-6);
    EXPECT_GE(p.accuracy_hi, p.accuracy_predicted - 1e-6);
  }
  ASSERT_EQ(f.predictions.size(), 1u);
  EXPECT_NEAR(f.predictions[0].loss_predicted, q_at(1e24), 1e-9);
  EXPECT_NEAR(f.predictions[0].accuracy_predicted, acc(q_at(1e24)), 1e-5);
  EXPECT_GT(f.bootstrap_used, 20);
}

TEST(TwoStep, TooFewModels) {
  ResultsTable t = from_csv(
      "model,compute,task,metric,value\na,1,t,loglik_per_token,-3\nb,2,t,loglik_per_token,-2\nc,3,t,loglik_per_token,-1\n"
      "a,1,t,exact_match,0\nb,2,t,exact_match,0.1\nc,3,t,exact_match,0.5\n");
  TwoStepForecast f = two_step_forecast(t.curves[0], t.curves[1]);
  EXPECT_FALSE(f.ok);
  EXPECT_NE(f.note.find("fewer than 5"), std::string::npos);
}
