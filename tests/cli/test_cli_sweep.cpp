#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/shell.h"
#include "common/temp_dir.h"

using scalinglab::testing::scalinglab_cli;
using scalinglab::testing::TempDir;

TEST(CliSweep, PlanListsEveryRunOfTheExample) {
  auto r = scalinglab_cli("sweep plan " + std::string(SCALINGLAB_SOURCE_DIR) + "/examples/sweep-small.json --json");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["runs"].size(), 15u);
  for (const auto& run : j["runs"]) EXPECT_NEAR(run["C"].get<double>() / run["budget"].get<double>(), 1, 0.01);
}

TEST(CliSweep, BadSpecsGiveOneLineNamingFileAndField) {
  TempDir d;
  struct Case {
    std::string json, needle;
  };
  for (const Case& c : {Case{"{\"design\": {\"kind\": \"grid\", \"sizes\": 2}}", "at least 3"},
                        Case{"{\"hyper\": {\"batch_tokens\": \"many\"}}", "hyper.batch_tokens"},
                        Case{"{\"design\": ", "not valid JSON"}, Case{"{\"sedes\": [1]}", "unknown field 'sedes'"}}) {
    std::string path = d.file("spec.json", c.json);
    auto r = scalinglab_cli("sweep plan " + path);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_NE(r.out.find(path), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << r.out;
  }
}
