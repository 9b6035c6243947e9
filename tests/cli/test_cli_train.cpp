// `scalinglab train` from the command line: clear one-line errors before any work, Ctrl-C saves
// a checkpoint and exits 130, and the same command then resumes to the end.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/cli_process.h"
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
  // Long enough that SIGINT, sent once two metrics rows are written, arrives mid-run.
  const std::string extra = "--tokens 1e6 --evals 2 --eval-windows 4";
  std::string cmd = train_cmd(d, extra);
  std::vector<std::string> args;
  {
    std::istringstream words(cmd);
    std::string w;
    words >> w;  // the binary; start_cli adds it
    while (words >> w) args.push_back(w);
  }
  const pid_t pid = scalinglab::testing::start_cli(args);
  const fs::path metrics = d / "run" / "metrics.jsonl";
  ASSERT_TRUE(scalinglab::testing::wait_for([&] {
    std::ifstream in(metrics);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return std::count(text.begin(), text.end(), '\n') >= 2;  // training has taken steps
  })) << "training never wrote two metrics rows";
  kill(pid, SIGINT);
  ASSERT_EQ(scalinglab::testing::wait_exit(pid), 130);
  ASSERT_TRUE(fs::exists(d / "run" / "checkpoint.bin"));
  EXPECT_FALSE(fs::exists(d / "run" / "checkpoint.bin.tmp"));
  nlohmann::json first = nlohmann::json::parse(std::ifstream(d / "run" / "result.json"));
  EXPECT_EQ(first["status"], "interrupted");
  uint64_t stopped_at = first["steps"];
  EXPECT_GT(stopped_at, 0u);
  EXPECT_LT(stopped_at, 3907u);
  // The same command resumes the run and finishes it (capped by a timeout for safety).
  ShellResult r = shell("timeout 300 " + cmd + " -q");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json done = nlohmann::json::parse(std::ifstream(d / "run" / "result.json"));
  EXPECT_EQ(done["status"], "done");
  EXPECT_EQ(done["resumed_from"], stopped_at);
  EXPECT_EQ(done["steps"], 3907);  // ceil(1e6 / 256)
  fs::remove_all(d);
}
