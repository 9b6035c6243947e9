// The mirage test on a hand-computed table: p^L and L·(1 − p) predictions, the tolerance and
// error-bar rule, and p from log-likelihood.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "scalinglab/emergence/mirage.h"
#include "scalinglab/io/table.h"

using namespace scalinglab;
using namespace scalinglab::emergence;

namespace {

// Per-token p = 0.5, 0.7, 0.9, 0.99 (L = 3 → p³ = 0.125, 0.343, 0.729, 0.970299); measured exact
// match 0.13, 0.30, 0.73, 0.97 (errors 0.005, 0.043, 0.001, 0.000299); edit distance 3(1 − p) + 0.01.
ResultsTable table(const std::string& em_stderr_b = "") {
  const std::string csv =
      "model,params,task,metric,value,stderr,answer_len\n"
      "a,1,t,token_accuracy,0.5,,\nb,10,t,token_accuracy,0.7,,\nc,100,t,token_accuracy,0.9,,\nd,1000,t,token_accuracy,0.99,,\n"
      "a,1,t,exact_match,0.13,,3\nb,10,t,exact_match,0.30," + em_stderr_b + ",3\nc,100,t,exact_match,0.73,,3\n"
      "d,1000,t,exact_match,0.97,,3\n"
      "a,1,t,edit_distance,1.51,,3\nb,10,t,edit_distance,0.91,,3\nc,100,t,edit_distance,0.31,,3\nd,1000,t,edit_distance,0.04,,3\n"
      "a,1,t,loglik_per_token," + std::to_string(std::log(0.5)) + ",,\nb,10,t,loglik_per_token," + std::to_string(std::log(0.7)) +
      ",,\nc,100,t,loglik_per_token," + std::to_string(std::log(0.9)) + ",,\nd,1000,t,loglik_per_token," +
      std::to_string(std::log(0.99)) + ",,\n";
  return read_results(io::parse_csv(csv, "m.csv"));
}

const Curve& find(const ResultsTable& t, const std::string& metric) {
  for (const auto& c : t.curves)
    if (c.metric == metric) return c;
  throw std::runtime_error(metric);
}

}  // namespace

TEST(Mirage, PredictsPowerOfPerTokenAccuracy) {
  EXPECT_DOUBLE_EQ(predicted_exact_match(0.9, 3), 0.729);
  EXPECT_DOUBLE_EQ(predicted_edit_distance(0.9, 3), 3 * (1 - 0.9));
  ResultsTable t = table();
  MirageTest m = mirage_test(find(t, "exact_match"), find(t, "token_accuracy"), &find(t, "edit_distance"), 3);
  ASSERT_EQ(m.exact.size(), 4u);
  EXPECT_NEAR(m.exact[0].predicted, 0.125, 1e-15);
  EXPECT_NEAR(m.exact[1].predicted, 0.343, 1e-15);
  EXPECT_NEAR(m.exact[3].predicted, 0.970299, 1e-15);
  EXPECT_NEAR(m.max_abs_error, 0.043, 1e-12);
  EXPECT_NEAR(m.rmse, std::sqrt((0.005 * 0.005 + 0.043 * 0.043 + 0.001 * 0.001 + 0.000299 * 0.000299) / 4), 1e-12);
  EXPECT_TRUE(m.tracks);  // default tolerance 0.1
  ASSERT_EQ(m.edit.size(), 4u);
  EXPECT_NEAR(m.edit[0].predicted, 1.5, 1e-15);
  EXPECT_NEAR(m.edit_max_abs_error, 0.01, 1e-12);
}

TEST(Mirage, ToleranceAndErrorBars) {
  ResultsTable t = table();
  MirageOptions strict;
  strict.tolerance = 0.01;
  MirageTest m = mirage_test(find(t, "exact_match"), find(t, "token_accuracy"), nullptr, 3, strict);
  EXPECT_FALSE(m.tracks);
  EXPECT_FALSE(m.exact[1].within);
  EXPECT_TRUE(m.exact[0].within);
  EXPECT_NE(m.note.find("1 of 4"), std::string::npos) << m.note;
  // With a standard error of 0.03 at b, 2σ = 0.06 covers its 0.043.
  ResultsTable u = table("0.03");
  MirageTest n = mirage_test(find(u, "exact_match"), find(u, "token_accuracy"), nullptr, 3, strict);
  EXPECT_NEAR(n.exact[1].sigma, 0.03, 1e-15);
  EXPECT_TRUE(n.tracks);
}

TEST(Mirage, PerTokenProbabilityFromLogLikelihood) {
  ResultsTable t = table();
  MirageTest m = mirage_test(find(t, "exact_match"), find(t, "loglik_per_token"), nullptr, 3);
  EXPECT_EQ(m.source_metric, "loglik_per_token");
  EXPECT_NEAR(m.exact[2].p, 0.9, 1e-6);  // exp(log 0.9), through the CSV's 6 decimals
  EXPECT_NEAR(m.exact[2].predicted, 0.729, 1e-5);
  EXPECT_THROW(mirage_test(find(t, "exact_match"), find(t, "edit_distance"), nullptr, 3), std::invalid_argument);
  EXPECT_THROW(mirage_test(find(t, "exact_match"), find(t, "token_accuracy"), nullptr, 0), std::invalid_argument);
}
