// Reading the long results table: curve identity, ordering, perplexity conversion, skipped
// curves, and every refusal with its file:line and column.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "scalinglab/emergence/results_table.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/io/table.h"

using namespace scalinglab;
using namespace scalinglab::emergence;

namespace {

ResultsTable read(const std::string& csv, ReadOptions o = {}) { return read_results(io::parse_csv(csv, "t.csv"), o); }

// Expects an InputError at `line` naming `column` whose message contains `needle`.
void refused(const std::string& csv, long line, const std::string& column, const std::string& needle, ReadOptions o = {}) {
  try {
    read(csv, o);
    ADD_FAILURE() << "accepted:\n" << csv;
  } catch (const io::InputError& e) {
    EXPECT_EQ(e.file(), "t.csv");
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_EQ(e.field(), column) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

const std::string kHeader = "model,compute,task,metric,value\n";

}  // namespace

TEST(ResultsTable, CurvesByIdentityOrderedByScale) {
  const std::string csv =
      "model,params,compute,task,shots,metric,value,stderr\n"
      "b,2e6,2e18,add,0,exact_match,0.2,0.01\n"
      "a,1e6,1e18,add,0,exact_match,0.1,\n"
      "c,3e6,3e18,add,0,exact_match,0.3,\n"
      "a,1e6,1e18,add,5,exact_match,0.4,\n"
      "b,2e6,2e18,add,5,exact_match,0.5,\n"
      "c,3e6,3e18,add,5,exact_match,0.6,\n";
  ResultsTable t = read(csv);
  EXPECT_EQ(t.x_column, "compute");  // auto: compute when present
  ASSERT_EQ(t.curves.size(), 2u);
  const Curve& c = t.curves[0];
  EXPECT_EQ(c.task, "add");
  EXPECT_EQ(c.metric, "exact_match");
  EXPECT_EQ(c.label(), "task=add shots=0 metric=exact_match");
  ASSERT_EQ(c.points.size(), 3u);
  EXPECT_EQ(c.points[0].model, "a");
  EXPECT_EQ(c.points[0].x, 1e18);
  EXPECT_EQ(c.points[0].params, 1e6);
  EXPECT_EQ(c.points[0].line, 3);
  EXPECT_DOUBLE_EQ(c.se(1), 0.01);
  EXPECT_EQ(c.se(0), 0);  // no stderr, no n_examples
  EXPECT_EQ(t.curves[1].label(), "task=add shots=5 metric=exact_match");
  EXPECT_NE(c.group(), t.curves[1].group());
  // By params instead.
  ReadOptions o;
  o.x = ScaleAxis::kParams;
  EXPECT_EQ(read(csv, o).curves[0].points[0].x, 1e6);
}

TEST(ResultsTable, BinomialStandardErrorFromExamples) {
  ResultsTable t = read("model,compute,task,metric,value,n_examples\na,1,t,exact_match,0,100\nb,2,t,exact_match,0.5,100\n"
                        "c,3,t,exact_match,1,100\n");
  // Agresti–Coull: p̃ = (0·100 + 2)/104.
  const double pt = 2.0 / 104;
  EXPECT_NEAR(t.curves[0].se(0), std::sqrt(pt * (1 - pt) / 104), 1e-15);
  EXPECT_NEAR(t.curves[0].se(1), std::sqrt(0.25 / 104), 1e-15);
}

TEST(ResultsTable, PerplexityIsConvertedWithAWarning) {
  ResultsTable t = read(kHeader + "a,1,t,perplexity,20\nb,2,t,perplexity,10\nc,3,t,perplexity,5\n");
  ASSERT_EQ(t.curves.size(), 1u);
  EXPECT_EQ(t.curves[0].metric, "loglik_per_token");
  EXPECT_TRUE(t.curves[0].from_perplexity);
  EXPECT_TRUE(t.curves[0].info.higher_is_better);
  EXPECT_NEAR(t.curves[0].points[0].value, -std::log(20.0), 1e-15);
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_NE(t.warnings[0].find("perplexity"), std::string::npos);
}

TEST(ResultsTable, FewerThanThreeScalesSkippedWithNote) {
  ResultsTable t = read(kHeader + "a,1,t,exact_match,0.1\nb,2,t,exact_match,0.2\nc,2,t,exact_match,0.3\n"
                                  "a,1,u,exact_match,0.1\nb,2,u,exact_match,0.2\nc,3,u,exact_match,0.3\n");
  ASSERT_EQ(t.curves.size(), 1u);
  EXPECT_EQ(t.curves[0].task, "u");
  ASSERT_EQ(t.notes.size(), 1u);
  EXPECT_NE(t.notes[0].find("task=t metric=exact_match: 2 distinct scales"), std::string::npos) << t.notes[0];
}

TEST(ResultsTable, HigherIsBetterColumnOverridesTheDefault) {
  ResultsTable t = read("model,compute,task,metric,value,higher_is_better\na,1,t,score,3,0\nb,2,t,score,2,false\nc,3,t,score,1,\n");
  EXPECT_FALSE(t.curves[0].info.higher_is_better);
  EXPECT_TRUE(t.notes.empty());
  ResultsTable u = read(kHeader + "a,1,t,score,3\nb,2,t,score,2\nc,3,t,score,1\n");
  EXPECT_TRUE(u.curves[0].info.higher_is_better);
  ASSERT_EQ(u.notes.size(), 1u);  // an unknown metric without the column: said so
}

TEST(ResultsTable, Refusals) {
  refused(kHeader + "a,1,t,exact_match,0.1\nb,2,t,exact_match,57\n", 3, "value", "a percentage");
  refused(kHeader + "a,1,t,accuracy,-0.1\n", 2, "value", "must be in [0, 1]");
  refused(kHeader + "a,1,t,exact_match,0.1\nb,2,t,exact_match,0.2\na,3,t,exact_match,0.3\n", 4, "model",
          "duplicate row for model 'a' in curve task=t metric=exact_match (first at line 2)");
  refused(kHeader + "a,1,t,exact_match,0.1\nb,abc,t,exact_match,0.2\n", 3, "compute", "'abc'");
  refused(kHeader + "a,0,t,exact_match,0.1\n", 2, "compute", "positive");
  refused(kHeader + "a,-5,t,exact_match,0.1\n", 2, "compute", "positive");
  refused(kHeader + "a,1,t,exact_match,nan\n", 2, "value", "finite");
  refused(kHeader + "a,1,t,exact_match,\n", 2, "value", "expected a number");
  refused(kHeader + "a,1,t,loglik_per_token,0.5\n", 2, "value", "must be ≤ 0");
  refused(kHeader + "a,1,t,edit_distance,-1\n", 2, "value", "must be ≥ 0");
  refused(kHeader + "a,1,t,perplexity,0.5\n", 2, "value", "perplexity");
  refused(kHeader + ",1,t,exact_match,0.1\n", 2, "model", "empty cell");
  refused(kHeader + "a,1,,exact_match,0.1\n", 2, "task", "empty cell");
  refused("model,compute,task,metric,value,stderr\na,1,t,exact_match,0.1,-1\n", 2, "stderr", "negative");
  refused("model,compute,task,metric,value,n_examples\na,1,t,exact_match,0.1,0\n", 2, "n_examples", "positive");
  refused("model,compute,task,metric,value,higher_is_better\na,1,t,exact_match,0.1,maybe\n", 2, "higher_is_better", "'maybe'");
  refused("model,compute,task,metric,value,higher_is_better\na,1,t,s,0.1,1\nb,2,t,s,0.2,0\n", 3, "higher_is_better",
          "disagrees with line 2");
  refused("model,compute,task,metric,value,answer_len\na,1,t,exact_match,0.1,2.5\n", 2, "answer_len", "whole number");
  // Missing columns name the closest one, on the header line.
  refused("model,compute,tsk,metric,value\na,1,t,exact_match,0.1\n", 1, "", "no column 'task'");
  refused("model,compute,task,metric,value\na,1,t,exact_match,0.1\n", 1, "", "no column 'params'",
          ReadOptions{ScaleAxis::kParams, "model"});
  refused("name,compute,task,metric,value\na,1,t,exact_match,0.1\n", 1, "", "no column 'model'");
  refused("model,size,task,metric,value\na,1,t,exact_match,0.1\n", 1, "", "no column 'compute'");
  // --col-model.
  EXPECT_EQ(read("name,compute,task,metric,value\na,1,t,exact_match,0.1\nb,2,t,exact_match,0.2\nc,3,t,exact_match,0.3\n",
                 ReadOptions{ScaleAxis::kAuto, "name"})
                .curves.size(),
            1u);
}

TEST(ResultsTable, EmptyTableRefused) {
  io::Table t;
  t.source = "t.csv";
  t.columns = {"model", "compute", "task", "metric", "value"};
  try {
    read_results(t);
    ADD_FAILURE();
  } catch (const io::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("empty table"), std::string::npos);
  }
  // And from the file readers (header only; nothing at all).
  EXPECT_THROW(io::parse_csv(kHeader, "t.csv"), io::InputError);
  EXPECT_THROW(io::parse_jsonl("", "t.jsonl"), io::InputError);
}

TEST(ResultsTable, JsonlRowsKeepTheirLines) {
  const std::string jsonl =
      "{\"model\":\"a\",\"params\":1e6,\"task\":\"t\",\"metric\":\"exact_match\",\"value\":0.1,\"answer_len\":3}\n"
      "\n"
      "{\"model\":\"b\",\"params\":2e6,\"task\":\"t\",\"metric\":\"exact_match\",\"value\":1.5,\"answer_len\":3}\n";
  try {
    read_results(io::parse_jsonl(jsonl, "t.jsonl"));
    ADD_FAILURE();
  } catch (const io::InputError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.field(), "value");
  }
}
