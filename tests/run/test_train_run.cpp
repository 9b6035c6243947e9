// A whole GPT pilot run on a small corpus: it learns, is deterministic, resumes exactly, refuses
// bad configurations before any work and never loads a corrupt checkpoint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "scalinglab/io/table.h"
#include "scalinglab/model/gpt.h"
#include "scalinglab/run/train_run.h"
#include "scalinglab/train/checkpoint.h"
#include "scalinglab/train/metrics.h"

#include "common/temp_dir.h"

namespace fs = std::filesystem;
using namespace scalinglab;

using scalinglab::testing::TempDir;

namespace {

// Repetitive English-like text: learnable well below the 8 bits/byte of a uniform guess.
std::string corpus_text() {
  const char* words[] = {"the ", "law ", "of ", "scaling ", "and ", "loss ", "falls ", "with ", "compute ", "data ", "\n"};
  std::ostringstream s;
  uint64_t x = 7;
  for (int i = 0; i < 60000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    s << words[(x >> 33) % 11];
  }
  return s.str();
}

run::RunSpec small_spec(const fs::path& dir) {
  run::RunSpec s;
  s.model = {256, 32, 32, 2, 2, false};
  s.batch = 8;
  s.tokens = 40 * 8 * 32;  // 40 steps
  s.schedule.peak_lr = 3e-3;
  s.evals = 4;
  s.eval_windows = 16;
  s.threads = 1;
  fs::path text = dir / "corpus.txt";
  if (!fs::exists(text)) std::ofstream(text) << corpus_text();
  s.corpus = text.string();
  s.cache_dir = (dir / "cache").string();
  return s;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<double> eval_losses(const fs::path& metrics) {
  auto t = io::read_table(metrics.string(), io::TableFormat::kJsonl);
  auto col = *t.find("eval_loss");
  std::vector<double> out;
  for (const auto& row : t.rows)
    if (!row[col].empty()) out.push_back(std::stod(row[col]));
  return out;
}

}  // namespace

TEST(TrainRun, LearnsAndWritesTheRunDirectory) {
  TempDir d;
  auto spec = small_spec(d.path);
  auto o = run::train_run(spec, (d.path / "run").string(), util::ProgressMode::kQuiet);
  EXPECT_EQ(o.status, "done");
  EXPECT_EQ(o.steps, 40u);
  EXPECT_EQ(o.tokens, 40u * 8 * 32);
  EXPECT_LT(o.eval_loss, 3.5);  // from ln 256 = 5.55 nats at initialisation
  EXPECT_NEAR(o.eval_bits_per_byte, o.eval_loss / std::log(2.0), 1e-12);
  EXPECT_NEAR(o.flops, spec.model.train_flops_per_token_chinchilla() * 40 * 8 * 32, 1);
  for (const char* f : {"config.json", "metrics.jsonl", "checkpoint.bin", "result.json"})
    EXPECT_TRUE(fs::exists(d.path / "run" / f)) << f;
  auto evals = eval_losses(d.path / "run" / "metrics.jsonl");
  ASSERT_GE(evals.size(), 4u);
  EXPECT_LT(evals.back(), evals.front());
}

TEST(TrainRun, SameSeedSameCurveBitForBit) {
  TempDir d;
  auto spec = small_spec(d.path);
  run::train_run(spec, (d.path / "a").string(), util::ProgressMode::kQuiet);
  run::train_run(spec, (d.path / "b").string(), util::ProgressMode::kQuiet);
  auto without_time = [](const std::string& text) {
    // elapsed_s differs between runs; every other field must be identical
    std::vector<nlohmann::json> rows;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      j.erase("elapsed_s");
      rows.push_back(j);
    }
    return rows;
  };
  EXPECT_EQ(without_time(read(d.path / "a" / "metrics.jsonl")), without_time(read(d.path / "b" / "metrics.jsonl")));
  auto ca = train::load_checkpoint((d.path / "a" / "checkpoint.bin").string());
  auto cb = train::load_checkpoint((d.path / "b" / "checkpoint.bin").string());
  EXPECT_EQ(ca.params, cb.params);
}

TEST(TrainRun, InterruptedAndResumedEqualsUninterrupted) {
  TempDir d;
  auto spec = small_spec(d.path);
  run::train_run(spec, (d.path / "full").string(), util::ProgressMode::kQuiet);
  int polls = 0;
  auto first = run::train_run(spec, (d.path / "split").string(), util::ProgressMode::kQuiet, [&] { return ++polls == 17; });
  EXPECT_EQ(first.status, "interrupted");
  EXPECT_EQ(first.steps, 17u);
  auto second = run::train_run(spec, (d.path / "split").string(), util::ProgressMode::kQuiet, [] { return false; });
  EXPECT_EQ(second.status, "done");
  EXPECT_EQ(second.resumed_from, 17u);
  auto a = train::load_checkpoint((d.path / "full" / "checkpoint.bin").string());
  auto b = train::load_checkpoint((d.path / "split" / "checkpoint.bin").string());
  EXPECT_EQ(a.params, b.params);  // bit for bit
  EXPECT_EQ(a.adam_m, b.adam_m);
  EXPECT_EQ(eval_losses(d.path / "full" / "metrics.jsonl"), eval_losses(d.path / "split" / "metrics.jsonl"));
}

TEST(TrainRun, CorruptCheckpointIsReportedNotLoaded) {
  TempDir d;
  auto spec = small_spec(d.path);
  int polls = 0;
  run::train_run(spec, (d.path / "run").string(), util::ProgressMode::kQuiet, [&] { return ++polls == 5; });
  fs::path ck = d.path / "run" / "checkpoint.bin";
  fs::resize_file(ck, fs::file_size(ck) / 2);  // truncated, as by a crash mid-copy
  EXPECT_THROW(run::train_run(spec, (d.path / "run").string(), util::ProgressMode::kQuiet, [] { return false; }),
               train::CheckpointError);
}

TEST(TrainRun, BadConfigurationFailsBeforeAnyWork) {
  TempDir d;
  auto spec = small_spec(d.path);
  spec.model.n_head = 3;  // does not divide d_model = 32
  try {
    run::train_run(spec, (d.path / "run").string(), util::ProgressMode::kQuiet);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("n_head"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(d.path / "run"));
  spec = small_spec(d.path);
  spec.tokens = 0;
  EXPECT_THROW(run::train_run(spec, (d.path / "run").string(), util::ProgressMode::kQuiet), std::invalid_argument);
  spec = small_spec(d.path);
  spec.corpus = (d.path / "missing.txt").string();
  EXPECT_ANY_THROW(run::train_run(spec, (d.path / "run").string(), util::ProgressMode::kQuiet));
  EXPECT_FALSE(fs::exists(d.path / "run"));
}

TEST(TrainRun, ADifferentRunInTheSameDirectoryIsRefused) {
  TempDir d;
  auto spec = small_spec(d.path);
  int polls = 0;
  run::train_run(spec, (d.path / "run").string(), util::ProgressMode::kQuiet, [&] { return ++polls == 3; });
  spec.schedule.peak_lr = 1e-3;
  try {
    run::train_run(spec, (d.path / "run").string(), util::ProgressMode::kQuiet);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("different run"), std::string::npos) << e.what();
  }
}

namespace {

// The weights of a snapshot file as a flat buffer (Gpt::load_weights checks config and shapes).
std::vector<float> snapshot_params(const run::RunSpec& spec, const fs::path& path) {
  model::Gpt g(spec.model, 99);
  g.load_weights(path.string());
  return {g.params().begin(), g.params().end()};
}

}  // namespace

TEST(TrainRun, SnapshotsHoldTheWeightsAtThePlannedStepsAndAResumedRunRewritesThemExactly) {
  TempDir d;
  auto spec = small_spec(d.path);
  spec.snapshot_steps = {5, 10, 20, 40};
  const fs::path full = d.path / "full";
  run::train_run(spec, full.string(), util::ProgressMode::kQuiet, [] { return false; });
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(full / "snapshots")) files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"step_5.bin", "step_10.bin", "step_20.bin", "step_40.bin"}));
  EXPECT_EQ(run::snapshot_path(full.string(), 10), (full / "snapshots" / "step_10.bin").string());
  // Independent reference: the checkpoint of the same run stopped after step 10 holds the
  // parameters after exactly 10 updates; the final snapshot equals the final checkpoint.
  {
    auto ref = spec;
    ref.snapshot_steps.clear();
    int polls = 0;
    auto o = run::train_run(ref, (d.path / "ten").string(), util::ProgressMode::kQuiet, [&] { return ++polls == 10; });
    ASSERT_EQ(o.steps, 10u);
    EXPECT_EQ(train::load_checkpoint((d.path / "ten" / "checkpoint.bin").string()).params,
              snapshot_params(spec, full / "snapshots" / "step_10.bin"));
    EXPECT_EQ(train::load_checkpoint((full / "checkpoint.bin").string()).params,
              snapshot_params(spec, full / "snapshots" / "step_40.bin"));
  }
  // A run killed after writing snapshot 10 but before any checkpoint past step 8 (simulated: the
  // checkpoint of step 8 put back after training to step 12) redoes steps 9..12, rewriting
  // snapshot 10, then finishes: every snapshot is byte for byte the uninterrupted run's.
  const fs::path split = d.path / "split";
  int polls = 0;
  ASSERT_EQ(run::train_run(spec, split.string(), util::ProgressMode::kQuiet, [&] { return ++polls == 8; }).steps, 8u);
  fs::copy_file(split / "checkpoint.bin", d.path / "ck8.bin");
  polls = 0;
  ASSERT_EQ(run::train_run(spec, split.string(), util::ProgressMode::kQuiet, [&] { return ++polls == 4; }).steps, 12u);
  ASSERT_TRUE(fs::exists(split / "snapshots" / "step_10.bin"));
  fs::copy_file(d.path / "ck8.bin", split / "checkpoint.bin", fs::copy_options::overwrite_existing);
  auto o = run::train_run(spec, split.string(), util::ProgressMode::kQuiet, [] { return false; });
  EXPECT_EQ(o.resumed_from, 8u);
  EXPECT_EQ(o.status, "done");
  for (uint64_t s : spec.snapshot_steps)
    EXPECT_EQ(read(split / "snapshots" / ("step_" + std::to_string(s) + ".bin")),
              read(full / "snapshots" / ("step_" + std::to_string(s) + ".bin")))
        << s;
  // Out-of-range or unordered snapshot steps are refused before any work, naming the field.
  for (std::vector<uint64_t> bad : {std::vector<uint64_t>{0}, {41}, {10, 5}, {5, 5}}) {
    auto b = spec;
    b.snapshot_steps = bad;
    try {
      run::train_run(b, (d.path / "bad").string(), util::ProgressMode::kQuiet);
      ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("snapshot_steps:", 0), 0u) << e.what();
    }
    EXPECT_FALSE(fs::exists(d.path / "bad" / "snapshots"));
  }
}

// The run watches itself with the monitor: once enough evaluations are in, every metrics line
// carries the estimated final loss and its interval, and the estimate made from the whole run
// brackets the final evaluation.
TEST(TrainRun, MetricsLinesCarryTheEstimatedFinalLoss) {
  TempDir d;
  auto spec = small_spec(d.path);
  spec.tokens = 120 * 8 * 32;  // 120 steps
  spec.evals = 24;
  auto o = run::train_run(spec, (d.path / "run").string(), util::ProgressMode::kQuiet);
  ASSERT_EQ(o.status, "done");
  auto rows = train::read_metrics((d.path / "run" / "metrics.jsonl").string());
  ASSERT_FALSE(rows.empty());
  int with = 0;
  for (const auto& r : rows)
    if (r.est_final_loss) {
      ++with;
      ASSERT_TRUE(r.est_final_lo && r.est_final_hi);
      EXPECT_LT(*r.est_final_lo, *r.est_final_loss);
      EXPECT_GT(*r.est_final_hi, *r.est_final_loss);
    }
  EXPECT_GT(with, static_cast<int>(rows.size()) / 2) << "the estimate starts early in the run";
  EXPECT_FALSE(rows.front().est_final_loss.has_value()) << "no estimate before six evaluations";
  const auto& last = rows.back();
  ASSERT_TRUE(last.est_final_loss && last.eval_loss);
  EXPECT_LE(*last.est_final_lo, *last.eval_loss);
  EXPECT_GE(*last.est_final_hi, *last.eval_loss);
}
