// `scalinglab train` from the command line: clear one-line errors before any work, Ctrl-C saves
// a checkpoint and exits 130, and the same command then resumes to the end.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/shell.h"

namespace fs = std::filesystem;

using scalinglab::testing::ShellResult;
using scalinglab::testing::shell;

namespace {

fs::path temp_dir() {
  auto d = fs::temp_directory_path() / ("sl_cli_train_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(d);
  fs::create_directories(d);
  std::ostringstream text;
  for (int i = 0; i < 20000; ++i) text << "in the beginning was the word " << (i % 97) << "\n";
  std::ofstream(d / "corpus.txt") << text.str();
  return d;
}

std::string train_cmd(const fs::path& d, const std::string& extra) {
  return std::string(SCALINGLAB_CLI_PATH) + " train --corpus " + (d / "corpus.txt").string() + " --cache " +
         (d / "cache").string() + " --d-model 32 --layers 2 --heads 2 --ctx 32 --batch 8 --threads 1 --out " +
         (d / "run").string() + " " + extra;
}

}  // namespace

TEST(CliTrain, BadConfigurationIsOneLineAndExitCode2) {
  auto d = temp_dir();
  for (const std::string& extra : {"--heads 3", "--tokens 0", "--lr -1", "--schedule triangle"}) {
    ShellResult r = shell(train_cmd(d, extra));
    EXPECT_EQ(r.code, 2) << extra << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << extra << ": " << r.out;
    EXPECT_EQ(r.out.rfind("scalinglab: error: ", 0), 0u) << r.out;
    EXPECT_FALSE(fs::exists(d / "run" / "checkpoint.bin"));
  }
  ShellResult r = shell(train_cmd(d, "--heads 3"));
  EXPECT_NE(r.out.find("n_head"), std::string::npos) << r.out;
  r = shell(std::string(SCALINGLAB_CLI_PATH) + " train --out " + (d / "x").string() + " --corpus " +
         (d / "nope.txt").string() + " --cache " + (d / "cache").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("nope.txt"), std::string::npos) << r.out;
  fs::remove_all(d);
}

TEST(CliTrain, CtrlCSavesACheckpointAndTheSameCommandResumes) {
  auto d = temp_dir();
  // Long enough that SIGINT after 1 s arrives mid-run (the tiny model does ~1e5 tokens/s).
  std::string cmd = train_cmd(d, "--tokens 1e6 --evals 2 --eval-windows 4");
  ShellResult r = shell("timeout --preserve-status -s INT 1 " + cmd);
  ASSERT_EQ(r.code, 130) << r.out;
  EXPECT_NE(r.out.find("interrupted"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(d / "run" / "checkpoint.bin"));
  EXPECT_FALSE(fs::exists(d / "run" / "checkpoint.bin.tmp"));
  nlohmann::json first = nlohmann::json::parse(std::ifstream(d / "run" / "result.json"));
  EXPECT_EQ(first["status"], "interrupted");
  uint64_t stopped_at = first["steps"];
  EXPECT_GT(stopped_at, 0u);
  EXPECT_LT(stopped_at, 3907u);
  // The same command resumes the run and finishes it (capped by a timeout for safety).
  r = shell("timeout 300 " + cmd + " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json done = nlohmann::json::parse(std::ifstream(d / "run" / "result.json"));
  EXPECT_EQ(done["status"], "done");
  EXPECT_EQ(done["resumed_from"], stopped_at);
  EXPECT_EQ(done["steps"], 3907);  // ceil(1e6 / 256)
  fs::remove_all(d);
}
