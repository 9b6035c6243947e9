// `scalinglab emergence analyze` end to end through the binary: malformed tables are refused
// with one line naming file:line and column and exit code 2; --json - prints only JSON; --html
// writes the page; the terminal table shows the verdicts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/shell.h"

using scalinglab::testing::ShellResult;

namespace {

ShellResult run(const std::string& args) { return scalinglab::testing::scalinglab_cli("emergence analyze " + args); }

std::string temp_file(const std::string& name, const std::string& contents) {
  auto dir = std::filesystem::temp_directory_path() / ("scalinglab-emergence-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path) << contents;
  return path;
}

void expect_refused(const std::string& name, const std::string& contents, const std::vector<std::string>& needles,
                    const std::string& extra = "") {
  ShellResult r = run(temp_file(name, contents) + " " + extra);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_EQ(r.out.rfind("scalinglab: error: ", 0), 0u) << r.out;
  for (const auto& n : needles) EXPECT_NE(r.out.find(n), std::string::npos) << "missing '" << n << "' in: " << r.out;
}

const std::string kHeader = "model,compute,task,metric,value\n";

// A small sweep-like table: exact match = p^4 from a smooth token accuracy, 7 models.
std::string good_table() {
  std::ostringstream s;
  s.precision(10);
  s << "model,params,compute,task,metric,value,answer_len\n";
  for (int i = 0; i < 7; ++i) {
    const double n = 1e6 * std::pow(10.0, 0.5 * i), p = 0.3 + 0.11 * i;
    s << "m" << i << "," << n << "," << 120 * n * n << ",add,token_accuracy," << p << ",4\n";
    s << "m" << i << "," << n << "," << 120 * n * n << ",add,exact_match," << std::pow(p, 4) << ",4\n";
    s << "m" << i << "," << n << "," << 120 * n * n << ",add,loglik_per_token," << std::log(p) << ",4\n";
  }
  return s.str();
}

}  // namespace

TEST(CliEmergenceAnalyze, MalformedTablesAreRefusedWithFileLineColumn) {
  expect_refused("acc.csv", kHeader + "a,1e18,t,exact_match,0.1\nb,1e19,t,exact_match,57\n",
                 {"acc.csv:3: column 'value'", "[0, 1]", "percentage"});
  expect_refused("dup.csv", kHeader + "a,1e18,t,exact_match,0.1\nb,1e19,t,exact_match,0.2\na,1e20,t,exact_match,0.3\n",
                 {"dup.csv:4: column 'model'", "duplicate row for model 'a'", "line 2"});
  expect_refused("text.csv", kHeader + "a,1e18,t,exact_match,0.1\nb,lots,t,exact_match,0.2\n",
                 {"text.csv:3: column 'compute'", "'lots'"});
  expect_refused("zero.csv", kHeader + "a,0,t,exact_match,0.1\n", {"zero.csv:2: column 'compute'", "positive"});
  expect_refused("params.csv", "model,params,task,metric,value\na,-3,t,exact_match,0.1\n", {"params.csv:2: column 'params'"},
                 "--x params");
  expect_refused("empty.csv", kHeader, {"empty.csv", "no data rows"});
  expect_refused("nothing.csv", "", {"nothing.csv", "empty"});
  expect_refused("nocol.csv", "model,compute,tsk,metric,value\na,1,t,exact_match,0.1\n",
                 {"nocol.csv:1", "no column 'task'", "did you mean 'tsk'"});
  expect_refused("noscale.csv", "model,size,task,metric,value\na,1,t,exact_match,0.1\n", {"noscale.csv:1", "'compute'"});
  expect_refused("rows.jsonl",
                 "{\"model\":\"a\",\"compute\":1e18,\"task\":\"t\",\"metric\":\"accuracy\",\"value\":0.5}\n"
                 "{\"model\":\"b\",\"compute\":1e19,\"task\":\"t\",\"metric\":\"accuracy\",\"value\":-0.5}\n",
                 {"rows.jsonl:2: column 'value'"});
  expect_refused("ll.csv", kHeader + "a,1e18,t,loglik_per_token,0.3\n", {"ll.csv:2: column 'value'", "≤ 0"});
  expect_refused("len.csv", "model,compute,task,metric,value,answer_len\na,1,t,exact_match,0.1,zero\n",
                 {"len.csv:2: column 'answer_len'"});
}

TEST(CliEmergenceAnalyze, MissingFile) {
  ShellResult r = run("/nonexistent/results.csv");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/results.csv"), std::string::npos) << r.out;
}

TEST(CliEmergenceAnalyze, BadOptionsExitTwo) {
  const std::string f = temp_file("good.csv", good_table());
  for (const char* opt : {"--x size", "--bootstrap -1", "--bootstrap-kind jackknife", "--sharp-threshold 0"}) {
    ShellResult r = run(f + " " + opt);
    EXPECT_EQ(r.code, 2) << opt << ": " << r.out;
  }
}

TEST(CliEmergenceAnalyze, JsonToStdoutIsOnlyJson) {
  const std::string f = temp_file("good.csv", good_table());
  ShellResult r = run(f + " --json - --bootstrap 20");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);  // throws on anything but JSON
  EXPECT_EQ(j["schema"], "scalinglab.emergence.analysis/1");
  EXPECT_EQ(j["x"], "compute");
  ASSERT_EQ(j["curves"].size(), 3u);
  EXPECT_EQ(j["curves"][1]["metric"], "exact_match");
  EXPECT_EQ(j["curves"][1]["logistic"]["bootstrap_used"].get<int>() > 0, true);
  EXPECT_EQ(j["verdicts"].size(), 1u);
  EXPECT_EQ(j["two_step"].size(), 1u);
  // --x params switches the scale.
  ShellResult p = run(f + " --json - --bootstrap 0 --x params");
  ASSERT_EQ(p.code, 0) << p.out;
  EXPECT_EQ(nlohmann::json::parse(p.out)["x"], "params");
}

TEST(CliEmergenceAnalyze, TableJsonFileAndHtml) {
  const std::string f = temp_file("good.csv", good_table());
  const std::string json = temp_file("out.json", ""), html = temp_file("out.html", "");
  ShellResult r = run(f + " --bootstrap 20 --json " + json + " --html " + html);
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* n : {"verdict per task", "task=add answer_len=4 metric=exact_match", "mirage test", "forecast", "two-step"})
    EXPECT_NE(r.out.find(n), std::string::npos) << n << " in:\n" << r.out;
  std::ifstream j(json);
  EXPECT_NO_THROW(nlohmann::json::parse(j));
  std::ifstream h(html);
  std::stringstream page;
  page << h.rdbuf();
  for (const char* id : {"sec-emergence", "emergence-verdicts", "emergence-curves", "emergence-plot-0-discrete",
                         "emergence-plot-0-continuous", "Content-Security-Policy"})
    EXPECT_NE(page.str().find(id), std::string::npos) << id;
}
