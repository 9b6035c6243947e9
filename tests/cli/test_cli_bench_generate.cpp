// `scalinglab bench generate`: bad flags are one line and exit code 2; a tiny run reports both
// paths and that they emitted the same tokens (no timing is asserted).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/shell.h"

namespace {
scalinglab::testing::ShellResult run(const std::string& args) { return scalinglab::testing::scalinglab_cli(args); }
}  // namespace

TEST(CliBenchGenerate, BadFlagsAreOneLineAndExitCode2) {
  for (auto [args, needle] : std::vector<std::pair<std::string, std::string>>{
           {"--d-model 16 --ctx 8 --layers 1", "--heads"},
           {"--ctx 8", "--d-model"},
           {"--d-model 16 --ctx 8 --layers 1 --heads 3", "n_head=3"},
           {"--d-model 16 --ctx 8 --layers 1 --heads 2 --prompt 0", "--prompt"},
           {"--d-model 16 --ctx 8 --layers 1 --heads 2 --prompt 4 --new-tokens 5", "--ctx"},
           {"--d-model 16 --ctx 8 --layers 1 --heads 2 --repeat 0", "--repeat"},
           {"--d-model 16 --ctx 8 --layers 1 --heads 2 --temperature -1", "--temperature"},
           {"--d-model 16 --ctx 8 --layers 1 --heads 2 --precision fp8", "--precision"}}) {
    const auto r = run("bench generate " + args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_NE(r.out.find(needle), std::string::npos) << "missing '" << needle << "' in: " << r.out;
  }
}

TEST(CliBenchGenerate, TinyRunReportsBothPaths) {
  const auto r = run("bench generate --vocab 11 --d-model 16 --ctx 8 --layers 2 --heads 2 --rope --repeat 1 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["runs"].size(), 1u);
  const auto& x = j["runs"][0];
  EXPECT_EQ(x["new_tokens"], 7);
  EXPECT_EQ(x["config"]["rope"], true);
  EXPECT_EQ(x["same_tokens"], true);
  EXPECT_GT(x["cached_tokens_per_s"].get<double>(), 0);
  EXPECT_GT(x["reference_tokens_per_s"].get<double>(), 0);
}
