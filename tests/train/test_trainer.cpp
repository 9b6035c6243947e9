#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <sstream>

#include "scalinglab/data/corpus.h"
#include "scalinglab/io/table.h"
#include "scalinglab/train/checkpoint.h"
#include "scalinglab/train/trainer.h"

#include "common/temp_dir.h"

namespace fs = std::filesystem;
using namespace scalinglab;
using namespace scalinglab::train;

using scalinglab::testing::TempDir;

namespace {

// A real, if tiny, language model: next-byte logits = W[current byte] + b. Its exact gradient
// is cheap, so the loop can be tested end to end without the GPT.
constexpr size_t kV = 256;
const std::vector<ParamTensor> kTable = {{"W", 0, kV * kV, true}, {"b", kV * kV, kV, false}};

double bigram(const float* p, const int32_t* batch, uint32_t rows, uint32_t ctx, float* grads) {
  if (grads) std::fill(grads, grads + kV * kV + kV, 0.0f);
  double total = 0;
  const double inv = 1.0 / (static_cast<double>(rows) * ctx);
  std::vector<double> logits(kV);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t t = 0; t < ctx; ++t) {
      int32_t x = batch[r * (ctx + 1) + t], y = batch[r * (ctx + 1) + t + 1];
      double mx = -1e300;
      for (size_t k = 0; k < kV; ++k) mx = std::max(mx, logits[k] = p[x * kV + k] + p[kV * kV + k]);
      double z = 0;
      for (size_t k = 0; k < kV; ++k) z += std::exp(logits[k] - mx);
      total += std::log(z) + mx - logits[y];
      if (grads)
        for (size_t k = 0; k < kV; ++k) {
          double g = (std::exp(logits[k] - mx) / z - (static_cast<int32_t>(k) == y)) * inv;
          grads[x * kV + k] += static_cast<float>(g);
          grads[kV * kV + k] += static_cast<float>(g);
        }
    }
  return total * inv;
}

ModelHooks hooks() {
  return {bigram, [](const float* p, const int32_t* b, uint32_t rows, uint32_t ctx) { return bigram(p, b, rows, ctx, nullptr); }};
}

std::string structured_text(size_t n) {
  const char* words[] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog. "};
  std::string s;
  uint32_t x = 7;
  while (s.size() < n) {
    x = x * 1664525u + 1013904223u;
    s += words[(x >> 24) % 8];
  }
  return s;
}

TrainerConfig config(const fs::path& run_dir, uint64_t steps) {
  TrainerConfig c;
  c.batch_size = 4;
  c.ctx = 16;
  c.seed = 99;
  c.schedule.kind = ScheduleKind::kCosine;
  c.schedule.peak_lr = 0.1;
  c.schedule.warmup_steps = 5;
  c.schedule.total_steps = steps;
  c.adamw.weight_decay = 0.01;
  c.log_every = 5;
  c.eval_every = 20;
  c.eval_windows = 32;
  c.flops_per_token = 6.0 * (kV * kV + kV);
  c.run_dir = run_dir.string();
  c.config_json = R"({"model": "bigram"})";
  c.progress = util::ProgressMode::kQuiet;
  return c;
}

std::vector<double> column(const std::string& path, const std::string& name) {
  auto t = io::read_table(path, io::TableFormat::kJsonl);
  return t.numeric(*t.find(name));
}

}  // namespace

TEST(Trainer, LearnsAndLogsEverything) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  std::vector<float> params(kV * kV + kV, 0.0f);
  Trainer tr(config(d.path / "run", 60), corpus, kTable, params, hooks());
  double before = tr.evaluate();
  EXPECT_NEAR(before, std::log(256.0), 1e-9);  // zero logits: uniform over bytes
  auto res = tr.run([] { return false; });
  EXPECT_EQ(res.step, 60u);
  EXPECT_EQ(res.tokens, 60u * 4 * 16);
  EXPECT_FALSE(res.stopped);
  ASSERT_TRUE(res.final_eval_loss);
  // The text is 8 words in random order: after a space the next word is 1 of 8 (ln 8 = 2.08
  // nats), inside a word the next byte is nearly determined. A bigram model gets well under 1.5.
  EXPECT_LT(*res.final_eval_loss, 1.5);
  auto steps = column(tr.metrics_path(), "step");
  EXPECT_EQ(steps, (std::vector<double>{5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60}));
  auto flops = column(tr.metrics_path(), "flops");
  EXPECT_DOUBLE_EQ(flops.back(), 6.0 * (kV * kV + kV) * 60 * 64);
  auto lr = column(tr.metrics_path(), "lr");
  EXPECT_NEAR(lr.back(), learning_rate(config(d.path, 60).schedule, 59), 1e-15);
  auto ck = load_checkpoint(tr.checkpoint_path(), params.size());
  EXPECT_EQ(ck.step, 60u);
  EXPECT_EQ(ck.params, params);
  EXPECT_EQ(ck.config_json, R"({"model": "bigram"})");
}

TEST(Trainer, StoppedAndResumedRunEqualsAnUninterruptedOneBitForBit) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());

  std::vector<float> straight(kV * kV + kV, 0.0f);
  Trainer a(config(d.path / "a", 40), corpus, kTable, straight, hooks());
  a.run([] { return false; });

  std::vector<float> resumed(kV * kV + kV, 0.0f);
  auto cfg = config(d.path / "b", 40);
  cfg.checkpoint_every = 10;
  {
    Trainer b(cfg, corpus, kTable, resumed, hooks());
    int calls = 0;
    auto r = b.run([&] { return ++calls == 23; });  // "Ctrl-C" after step 23, between checkpoints
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.step, 23u);
  }
  std::vector<float> fresh_process(kV * kV + kV, 0.0f);  // resume must not rely on memory
  Trainer b2(cfg, corpus, kTable, fresh_process, hooks());
  auto r2 = b2.run([] { return false; });
  EXPECT_EQ(r2.resumed_from, 23u);
  EXPECT_EQ(r2.step, 40u);
  EXPECT_EQ(fresh_process, straight);

  // The stop added a line at 23; nothing is duplicated on resume, and evaluations at shared
  // steps agree exactly.
  EXPECT_EQ(column(b2.metrics_path(), "step"), (std::vector<double>{5, 10, 15, 20, 23, 25, 30, 35, 40}));
  auto la = io::read_table(a.metrics_path()), lb = io::read_table(b2.metrics_path());
  size_t eval_col = *la.find("eval_loss");
  ASSERT_EQ(la.rows.size(), 8u);
  EXPECT_NE(la.rows[3][eval_col], "");
  EXPECT_EQ(la.rows[3][eval_col], lb.rows[3][eval_col]);  // step 20
  EXPECT_EQ(la.rows[7][eval_col], lb.rows[8][eval_col]);  // step 40
}

TEST(Trainer, FreshStartDiscardsAStaleLogFromARunThatNeverCheckpointed) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  fs::create_directories(d.path / "run");
  std::ofstream(d.path / "run" / "metrics.jsonl") << R"({"step":5,"train_loss":9})" "\n" R"({"step":10,"train_loss":9})" "\n";
  std::vector<float> p(kV * kV + kV, 0.0f);
  Trainer tr(config(d.path / "run", 10), corpus, kTable, p, hooks());
  tr.run([] { return false; });
  auto loss = column(tr.metrics_path(), "train_loss");
  ASSERT_EQ(loss.size(), 2u);
  EXPECT_LT(loss[0], 6.0);
}

TEST(Trainer, ResumeRefusesADifferentDataOrderOrModel) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  std::vector<float> p(kV * kV + kV, 0.0f);
  Trainer(config(d.path / "run", 10), corpus, kTable, p, hooks()).run([] { return false; });
  auto cfg = config(d.path / "run", 20);
  cfg.seed = 100;
  try {
    Trainer(cfg, corpus, kTable, p, hooks()).run([] { return false; });
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("written with seed 99"), std::string::npos) << e.what();
  }
  auto other = kTable;
  other[0].name = "W_renamed";
  EXPECT_THROW(Trainer(config(d.path / "run", 20), corpus, other, p, hooks()).run([] { return false; }), CheckpointError);
}

TEST(Trainer, NonFiniteGradientsAreSkippedNotApplied) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  std::vector<float> p(kV * kV + kV, 0.0f);
  int call = 0;
  ModelHooks h = hooks();
  h.loss_and_grad = [&](const float* params, const int32_t* b, uint32_t rows, uint32_t ctx, float* g) {
    double l = bigram(params, b, rows, ctx, g);
    if (++call == 3) g[0] = NAN;
    return l;
  };
  auto cfg = config(d.path / "run", 10);
  cfg.divergence.max_nonfinite_steps = 1;  // tolerate one bad step
  auto res = Trainer(cfg, corpus, kTable, p, h).run([] { return false; });
  EXPECT_FALSE(res.diverged);
  EXPECT_EQ(res.skipped_steps, 1u);
  for (float x : p) ASSERT_TRUE(std::isfinite(x));
  EXPECT_EQ(load_checkpoint((d.path / "run" / "checkpoint.bin").string()).adam_step, 9u);
}

TEST(Trainer, ContextLongerThanValidationSplitFailsUpFront) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(100000);  // validation: one 4 KiB chunk
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  std::vector<float> p(kV * kV + kV, 0.0f);
  auto cfg = config(d.path / "run", 10);
  cfg.ctx = 5000;
  try {
    Trainer(cfg, corpus, kTable, p, hooks());
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("val.tok has 4096"), std::string::npos) << e.what();
  }
}

TEST(Trainer, NonFiniteLossEndsTheRunAsDiverged) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  std::vector<float> p(kV * kV + kV, 0.0f);
  int call = 0;
  ModelHooks h = hooks();
  h.loss_and_grad = [&](const float* params, const int32_t* b, uint32_t rows, uint32_t ctx, float* g) {
    double l = bigram(params, b, rows, ctx, g);
    return ++call == 4 ? NAN : l;
  };
  auto res = Trainer(config(d.path / "run", 10), corpus, kTable, p, h).run([] { return false; });
  EXPECT_TRUE(res.diverged);
  EXPECT_EQ(res.step, 4u);
  EXPECT_NE(res.message.find("non-finite loss at step 4"), std::string::npos) << res.message;
  EXPECT_FALSE(fs::exists(d.path / "run" / "checkpoint.bin"));  // the broken state is not saved
}

TEST(Trainer, LossSpikeEndsTheRunAsDiverged) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  std::vector<float> p(kV * kV + kV, 0.0f);
  int call = 0;
  ModelHooks h = hooks();
  h.loss_and_grad = [&](const float* params, const int32_t* b, uint32_t rows, uint32_t ctx, float* g) {
    double l = bigram(params, b, rows, ctx, g);
    return ++call >= 30 ? 10 * l : l;  // the loss jumps tenfold at step 30
  };
  auto cfg = config(d.path / "run", 60);
  auto res = Trainer(cfg, corpus, kTable, p, h).run([] { return false; });
  EXPECT_TRUE(res.diverged);
  EXPECT_EQ(res.step, 30u);
  EXPECT_NE(res.message.find("spiked"), std::string::npos) << res.message;
  // Disabled, the same run completes.
  std::vector<float> q(kV * kV + kV, 0.0f);
  call = 0;
  cfg.divergence.spike_factor = 0;
  cfg.run_dir = (d.path / "run2").string();
  EXPECT_FALSE(Trainer(cfg, corpus, kTable, q, h).run([] { return false; }).diverged);
}

TEST(Trainer, FinalEvaluationUsesItsOwnWindowCount) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  // Identical training; A evaluates on 4 windows along the way and 32 at the end, B on 32 always.
  TrainerConfig a = config(d.path / "a", 40), b = config(d.path / "b", 40);
  a.eval_windows = 4;
  a.final_eval_windows = 32;
  b.eval_windows = 32;
  std::vector<float> pa(kV * kV + kV, 0.0f), pb = pa;
  auto ra = Trainer(a, corpus, kTable, pa, hooks()).run([] { return false; });
  auto rb = Trainer(b, corpus, kTable, pb, hooks()).run([] { return false; });
  ASSERT_TRUE(ra.final_eval_loss && rb.final_eval_loss);
  EXPECT_EQ(*ra.final_eval_loss, *rb.final_eval_loss);  // same weights, same 32 windows
  auto evals = [](const fs::path& path) {
    std::vector<double> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      if (j.contains("eval_loss") && j["eval_loss"].is_number()) out.push_back(j["eval_loss"].get<double>());
    }
    return out;
  };
  auto ea = evals(d.path / "a" / "metrics.jsonl");
  auto eb = evals(d.path / "b" / "metrics.jsonl");
  ASSERT_EQ(ea.size(), eb.size());
  ASSERT_GE(ea.size(), 2u);
  EXPECT_NE(ea.front(), eb.front());  // the intermediate evaluation saw other windows
  EXPECT_EQ(ea.back(), eb.back());
}

TEST(Trainer, ResumedFromTheLastStepReportsTheSameFinalLosses) {
  // A worker killed after the last checkpoint but before recording the result resumes with no step
  // left to run: the final losses must still be those of the finished run.
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  std::vector<float> p1(kV * kV + kV, 0.0f), p2 = p1;
  auto first = Trainer(config(d.path / "run", 30), corpus, kTable, p1, hooks()).run([] { return false; });
  auto again = Trainer(config(d.path / "run", 30), corpus, kTable, p2, hooks()).run([] { return false; });
  EXPECT_EQ(again.resumed_from, 30u);
  ASSERT_TRUE(first.final_eval_loss && again.final_eval_loss);
  EXPECT_EQ(*again.final_eval_loss, *first.final_eval_loss);
  EXPECT_EQ(again.last_train_loss, first.last_train_loss);
  EXPECT_EQ(p2, p1);
}

TEST(Trainer, SnapshotsComeBeforeTheirStepsCheckpointAndHoldThatStepsParameters) {
  TempDir d;
  std::ofstream(d.path / "text.txt") << structured_text(200000);
  auto corpus = data::Corpus::build_or_open((d.path / "text.txt").string(), (d.path / "cache").string());
  // Reference: the parameters after exactly 10 and 20 steps, from a run stopped there.
  std::vector<float> at10(kV * kV + kV, 0.0f), at20(kV * kV + kV, 0.0f);
  {
    int polls = 0;
    Trainer a(config(d.path / "ten", 20), corpus, kTable, at10, hooks());
    ASSERT_EQ(a.run([&] { return ++polls == 10; }).step, 10u);
    Trainer b(config(d.path / "twenty", 20), corpus, kTable, at20, hooks());
    b.run([] { return false; });
  }
  auto c = config(d.path / "snap", 20);
  c.checkpoint_every = 5;
  c.snapshot_steps = {10, 20};
  std::map<uint64_t, std::vector<float>> seen;
  bool fail_at_20 = true;
  c.snapshot = [&](uint64_t step, std::span<const float> p) {
    // A failing snapshot (disk full, a kill) must leave no checkpoint at or past its step.
    if (step == 20 && fail_at_20) throw std::runtime_error("snapshot failed");
    seen[step].assign(p.begin(), p.end());
  };
  std::vector<float> params(kV * kV + kV, 0.0f);
  {
    Trainer t(c, corpus, kTable, params, hooks());
    EXPECT_THROW(t.run([] { return false; }), std::runtime_error);
  }
  EXPECT_EQ(load_checkpoint((d.path / "snap" / "checkpoint.bin").string(), params.size()).step, 15u);
  EXPECT_EQ(seen[10], at10);
  fail_at_20 = false;
  seen.clear();
  std::fill(params.begin(), params.end(), 0.0f);
  Trainer t(c, corpus, kTable, params, hooks());
  auto res = t.run([] { return false; });
  EXPECT_EQ(res.resumed_from, 15u);
  EXPECT_EQ(seen.size(), 1u);  // only the snapshot past the checkpoint is taken again
  EXPECT_EQ(seen[20], at20);
  // Steps outside the run or out of order, or steps without a callback, are refused up front.
  auto bad = c;
  bad.snapshot_steps = {21};
  EXPECT_THROW(Trainer(bad, corpus, kTable, params, hooks()), std::invalid_argument);
  bad.snapshot_steps = {10, 10};
  EXPECT_THROW(Trainer(bad, corpus, kTable, params, hooks()), std::invalid_argument);
  bad.snapshot_steps = {10};
  bad.snapshot = nullptr;
  EXPECT_THROW(Trainer(bad, corpus, kTable, params, hooks()), std::invalid_argument);
}
