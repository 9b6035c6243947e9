// The whole analysis on small tables: each branch of the verdict rule (analyze.h), the JSON
// schema's keys (docs/EMERGENCE.md), null for non-finite numbers, and independence of the thread
// count.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "scalinglab/emergence/analyze.h"
#include "scalinglab/io/table.h"

using namespace scalinglab;
using namespace scalinglab::emergence;

namespace {

AnalysisResult run(const std::string& csv, AnalyzeOptions o = {}) {
  if (o.bootstrap == 200) o.bootstrap = 30;
  return analyze_table(io::parse_csv(csv, "a.csv"), o);
}

const CurveAnalysis& find(const AnalysisResult& r, const std::string& metric) {
  for (const auto& c : r.curves)
    if (c.curve.metric == metric) return c;
  throw std::runtime_error(metric);
}

// Eight models; `em`, `tok` give exact match and token accuracy at each.
std::string table(const double* em, const double* tok, const char* task = "t", int L = 3) {
  std::ostringstream s;
  s.precision(17);
  s << "model,compute,task,metric,value,answer_len\n";
  for (int i = 0; i < 8; ++i) {
    const double c = std::pow(10.0, 18 + 0.5 * i);
    if (em) s << "m" << i << "," << c << "," << task << ",exact_match," << em[i] << "," << L << "\n";
    if (tok) s << "m" << i << "," << c << "," << task << ",token_accuracy," << tok[i] << ",\n";
  }
  return s.str();
}

}  // namespace

TEST(AnalyzeVerdict, SharpExactMatchFromSmoothTokenAccuracyIsExplained) {
  double tok[8], em[8];
  for (int i = 0; i < 8; ++i) tok[i] = 0.2 + 0.1 * i, em[i] = std::pow(tok[i], 8);  // p^8 with L = 8
  AnalysisResult r = run(table(em, tok, "t", 8));
  EXPECT_EQ(find(r, "exact_match").shape, "sharp");
  EXPECT_EQ(find(r, "token_accuracy").shape, "smooth");
  EXPECT_EQ(find(r, "exact_match").verdict, kVerdictExplained);
  EXPECT_EQ(r.verdicts.at(0).verdict, kVerdictExplained);
}

TEST(AnalyzeVerdict, PowerNotTrackedIsUnexplained) {
  // Same sharp exact match, but the token accuracy is near 1 throughout: p^8 is far above it.
  double tok[8], em[8];
  for (int i = 0; i < 8; ++i) tok[i] = 0.95 + 0.005 * i, em[i] = std::pow(0.2 + 0.1 * i, 8);
  AnalysisResult r = run(table(em, tok, "t", 8));
  EXPECT_EQ(find(r, "exact_match").verdict, kVerdictUnexplained);
  EXPECT_NE(find(r, "exact_match").reason.find("does not track"), std::string::npos);
}

TEST(AnalyzeVerdict, SharpTokenAccuracyMakesItUnexplained) {
  // Token accuracy itself jumps (0.01 → 0.99 between two scales): the metric does not explain it.
  const double tok[8] = {0.01, 0.01, 0.01, 0.01, 0.99, 0.99, 0.99, 0.99};
  double em[8];
  for (int i = 0; i < 8; ++i) em[i] = std::pow(tok[i], 3);
  AnalysisResult r = run(table(em, tok));
  EXPECT_EQ(find(r, "token_accuracy").shape, "sharp");
  EXPECT_EQ(find(r, "token_accuracy").verdict, kVerdictUnexplained);
  EXPECT_EQ(find(r, "exact_match").verdict, kVerdictUnexplained);
  EXPECT_NE(find(r, "exact_match").reason.find("itself is sharp"), std::string::npos);
}

TEST(AnalyzeVerdict, UntestedWithoutPerTokenMetricAndFlatWhenNothingHappens) {
  const double em[8] = {0, 0, 0, 0, 0, 0.6, 0.9, 0.95};
  AnalysisResult r = run(table(em, nullptr));
  EXPECT_EQ(find(r, "exact_match").verdict, kVerdictUntested);
  const double flat[8] = {0, 0.01, 0, 0.005, 0, 0.01, 0, 0.01};  // within 0.02 of the [0, 1] scale
  AnalysisResult f = run(table(flat, nullptr));
  EXPECT_EQ(find(f, "exact_match").verdict, kVerdictFlat);
  EXPECT_EQ(f.verdicts.at(0).verdict, kVerdictFlat);
}

TEST(AnalyzeVerdict, FlatThresholdUsesStandardErrors) {
  // A rise of 0.1 is not flat by the 0.02 tolerance, but it is with standard errors of 0.05
  // (2·sqrt(0.05² + 0.05²) = 0.141).
  const std::string head = "model,compute,task,metric,value,stderr\n";
  std::string a = head, b = head;
  for (int i = 0; i < 6; ++i) {
    const std::string row = std::string("m") + std::to_string(i) + "," + std::to_string(std::pow(10.0, i + 1)) + ",t,exact_match," +
                            std::to_string(i < 3 ? 0.0 : 0.1);
    a += row + ",\n";
    b += row + ",0.05\n";
  }
  EXPECT_NE(find(run(a), "exact_match").shape, "flat");
  EXPECT_EQ(find(run(b), "exact_match").shape, "flat");
}

TEST(AnalyzeJson, SchemaKeysAndNulls) {
  // A pure step (B = +inf) and a flat curve (no midpoint, no logistic x0).
  const std::string csv =
      "model,compute,task,shots,metric,value\n"
      "a,1e18,t,0,exact_match,0\nb,1e19,t,0,exact_match,0\nc,1e20,t,0,exact_match,0\nd,1e21,t,0,exact_match,1\ne,1e22,t,0,exact_match,1\n"
      "a,1e18,u,0,accuracy,0.3\nb,1e19,u,0,accuracy,0.3\nc,1e20,u,0,accuracy,0.3\n"
      "a,1e18,v,0,accuracy,0.3\nb,1e19,v,0,accuracy,0.4\n";
  AnalysisResult r = run(csv);
  nlohmann::json j = to_json(r);
  EXPECT_EQ(j["schema"], "scalinglab.emergence.analysis/1");
  for (const char* k : {"source", "x", "options", "curves", "verdicts", "forecasts", "mirage", "two_step", "notes", "warnings"})
    EXPECT_TRUE(j.contains(k)) << k;
  ASSERT_EQ(j["curves"].size(), 2u);
  const auto& step = j["curves"][0];
  for (const char* k : {"task", "metric", "identity", "x", "points", "I", "breakthroughness", "linearity", "midpoint_log10_x",
                        "logistic", "verdict", "sharpness", "shape", "power_law", "kind", "label", "group"})
    EXPECT_TRUE(step.contains(k)) << k;
  for (const char* k : {"floor", "ceiling", "x0", "k", "x0_ci95"}) EXPECT_TRUE(step["logistic"].contains(k)) << k;
  EXPECT_EQ(step["identity"]["shots"], "0");
  EXPECT_EQ(step["identity"]["task"], "t");
  EXPECT_EQ(step["x"], "compute");
  EXPECT_EQ(step["points"].size(), 5u);
  EXPECT_EQ(step["points"][0]["line"], 2);
  EXPECT_TRUE(step["breakthroughness"].is_null());
  EXPECT_EQ(step["breakthroughness_inf"], 1);
  EXPECT_DOUBLE_EQ(step["I"].get<double>(), 1);
  EXPECT_DOUBLE_EQ(step["midpoint_log10_x"].get<double>(), 20.5);  // level 0.5 halfway from 20 to 21
  EXPECT_TRUE(step["logistic"]["step"].get<bool>());
  const auto& flat = j["curves"][1];
  EXPECT_TRUE(flat["midpoint_log10_x"].is_null());
  EXPECT_TRUE(flat["logistic"]["x0"].is_null());
  EXPECT_DOUBLE_EQ(flat["breakthroughness"].get<double>(), 0);
  EXPECT_EQ(flat["verdict"], kVerdictFlat);
  ASSERT_EQ(j["notes"].size(), 1u);  // task v: 2 scales, skipped
  EXPECT_EQ(j["forecasts"].size(), 2u);
  EXPECT_EQ(j["verdicts"].size(), 2u);
  // The dump is valid JSON (no inf/nan literals).
  EXPECT_NO_THROW(nlohmann::json::parse(j.dump()));
}

TEST(AnalyzeJson, ResultDoesNotDependOnThreads) {
  double tok[8], em[8];
  for (int i = 0; i < 8; ++i) tok[i] = 0.2 + 0.1 * i + 0.01 * std::sin(i), em[i] = std::pow(tok[i], 5) + 0.01 * std::cos(i);
  AnalyzeOptions one, two;
  one.threads = 1, two.threads = 2;
  EXPECT_EQ(to_json(run(table(em, tok, "t", 5), one)).dump(), to_json(run(table(em, tok, "t", 5), two)).dump());
}

TEST(AnalyzeOptionsCheck, BadOptionsNameTheField) {
  AnalyzeOptions o;
  o.bootstrap = -1;
  try {
    validate(o);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bootstrap:", 0), 0u) << e.what();
  }
  o = {};
  o.sharp_threshold = 0;
  EXPECT_THROW(validate(o), std::invalid_argument);
}
