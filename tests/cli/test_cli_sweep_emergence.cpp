// `sweep run` / `sweep resume` of an emergence spec leave <out>/results.csv as `emergence run`
// does: the documented header, every evaluation of the store once, the same bytes as `emergence
// export`; a plain sweep leaves none.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/emergence_sweep.h"
#include "common/temp_dir.h"
#include "scalinglab/io/read_file.h"
#include "scalinglab/io/table.h"
#include "scalinglab/store/run_store.h"

namespace fs = std::filesystem;
using namespace scalinglab;
using scalinglab::testing::start_cli;
using scalinglab::testing::start_sweep_cli;
using scalinglab::testing::TempDir;
using scalinglab::testing::wait_exit;

TEST(CliSweepEmergence, RunAndResumeWriteResultsCsvWithTheDocumentedHeaderAndEveryEvaluation) {
  TempDir d;
  const std::string spec = scalinglab::testing::emergence_spec_file(d);
  const std::string st = d / "store.db", out = d / "out";
  ASSERT_EQ(wait_exit(start_sweep_cli({"sweep", "run", spec, "--store", st, "--out", out}, d)), 0);
  const std::string csv = (fs::path(out) / "results.csv").string();
  ASSERT_TRUE(fs::exists(csv));
  const io::Table t = io::read_table(csv);
  // The long table's columns as docs/EMERGENCE.md lists them.
  EXPECT_EQ(t.columns, (std::vector<std::string>{"model", "params", "compute", "task", "metric", "value", "n_examples", "stderr",
                                                 "ci_lo", "ci_hi", "higher_is_better", "answer_len", "progress"}));
  {
    auto s = store::RunStore::open(st, {store::OpenMode::kReadOnly});
    const auto sw = store::select_sweep(s, "");
    EXPECT_EQ(s.counts(sw.id).done, 3);
    EXPECT_GT(s.count_evals(sw.id), 0);
    EXPECT_EQ(static_cast<int64_t>(t.rows.size()), s.count_evals(sw.id));  // all runs done: every score
  }
  const std::string exported = d / "export.csv";
  ASSERT_EQ(wait_exit(start_cli({"emergence", "export", "--store", st, "--csv", exported})), 0);
  const std::string bytes = io::read_file(csv);
  EXPECT_EQ(io::read_file(exported), bytes);

  // `sweep resume` of the finished sweep writes it again, the same.
  fs::remove(csv);
  ASSERT_EQ(wait_exit(start_sweep_cli({"sweep", "resume", st, "--out", out}, d)), 0);
  ASSERT_TRUE(fs::exists(csv));
  EXPECT_EQ(io::read_file(csv), bytes);
}

TEST(CliSweepEmergence, APlainSweepWritesNoResultsCsv) {
  TempDir d;
  nlohmann::json j = nlohmann::json::parse(io::read_file(scalinglab::testing::emergence_spec_file(d)));
  j.erase("emergence");
  const std::string spec = d.file("plain.json", j.dump());
  const std::string st = d / "store.db", out = d / "out";
  ASSERT_EQ(wait_exit(start_sweep_cli({"sweep", "run", spec, "--store", st, "--out", out}, d)), 0);
  EXPECT_TRUE(fs::exists(d / "summary.json"));  // it did finish and write its outputs
  EXPECT_FALSE(fs::exists(fs::path(out) / "results.csv"));
}
