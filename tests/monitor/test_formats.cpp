// Every log format on samples written the way the real tools write them, format detection, and
// bad or truncated input (one-line errors naming file and line, warnings for a cut last line).
#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "monitor/read_log.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/monitor/log_reader.h"
#include "scalinglab/train/metrics.h"

namespace sm = scalinglab::monitor;
using scalinglab::testing::TempDir;

namespace {

using Read = scalinglab::testing::ReadLog;

Read read_file(const std::string& path, sm::ParseOptions o = {}) { return scalinglab::testing::read_log(path, o); }

std::string error_of(const std::string& path, sm::ParseOptions o = {}) { return scalinglab::testing::read_error(path, o); }

std::vector<sm::LogRecord> with(const std::vector<sm::LogRecord>& v, bool eval) {
  std::vector<sm::LogRecord> o;
  for (const auto& r : v)
    if (eval ? r.eval_loss.has_value() : r.train_loss.has_value()) o.push_back(r);
  return o;
}


}  // namespace

// llm.c train_gpt2.c (CPU): "val loss %f" before the step it belongs to, "step %d: train loss %f (took %f ms)".
TEST(Formats, LlmcCpuStdout) {
  TempDir dir;
  std::string text =
      "[GPT-2]\nmax_seq_len: 1024\nvocab_size: 50257\npadded_vocab_size: 50304\nnum_layers: 12\nnum_heads: 12\n"
      "channels: 768\nnum_parameters: 124475904\ntrain dataset num_batches: 1192\nval dataset num_batches: 128\n"
      "num_activations: 73347840\nval loss 5.325529\n"
      "step 0: train loss 4.677779 (took 1987.546000 ms)\nstep 1: train loss 5.191576 (took 1927.230000 ms)\n";
  for (int s = 2; s < 10; ++s) text += "step " + std::to_string(s) + ": train loss 4.5" + std::to_string(s) + " (took 1900.0 ms)\n";
  text += "val loss 4.283412\nstep 10: train loss 4.1 (took 1900.1 ms)\ngenerating:\n---\nThe King\n---\n";
  Read r = read_file(dir.file("train_gpt2.log", text));
  EXPECT_EQ(r.format, sm::LogFormat::kLog);
  auto val = with(r.records, true), train = with(r.records, false);
  ASSERT_EQ(val.size(), 2u);
  EXPECT_DOUBLE_EQ(*val[0].step, 0);  // before any update
  EXPECT_DOUBLE_EQ(*val[1].step, 10);  // after "step 9" (0-based): 10 updates done
  EXPECT_DOUBLE_EQ(*val[1].eval_loss, 4.283412);
  EXPECT_EQ(val[1].line, 23);
  ASSERT_EQ(train.size(), 11u);
  EXPECT_DOUBLE_EQ(*train[1].train_loss, 5.191576);
  EXPECT_TRUE(r.warnings.empty());
}

// llm.c train_gpt2.cu: a parameter table, "total desired batch size", "step %4d/%d: train loss …".
TEST(Formats, LlmcCudaStdout) {
  TempDir dir;
  std::string text =
      "+-----------------------+----------------------------------------------------+\n"
      "| Parameter             | Value                                              |\n"
      "+-----------------------+----------------------------------------------------+\n"
      "| train data pattern    | dev/data/tinyshakespeare/tiny_shakespeare_train.bin |\n"
      "| micro batch size B    | 4                                                  |\n"
      "+-----------------------+----------------------------------------------------+\n"
      "total desired batch size: 4096\n=> calculated gradient accumulation steps: 1\nval loss 4.503491\n"
      "step    1/74: train loss 4.367631 norm 11.5123 lr 1.00e-05 (47.82 ms, 85653 tok/s)\n"
      "step    2/74: train loss 4.031224 norm 6.0911 lr 2.00e-05 (45.10 ms, 90821 tok/s)\n"
      "val loss 3.95\n"
      "step    3/74 | loss 3.912000 (+1.02z)| norm 5.1234 (-0.33z)| lr 3.00e-05 | 44.93 ms | 38.2% bf16 MFU | 91163 tok/s\n";
  Read r = read_file(dir.file("main.out", text));
  EXPECT_EQ(r.format, sm::LogFormat::kLog);
  ASSERT_FALSE(r.records.empty());
  EXPECT_DOUBLE_EQ(*r.records[0].tokens_per_step, 4096);
  auto val = with(r.records, true), train = with(r.records, false);
  ASSERT_EQ(val.size(), 2u);
  EXPECT_DOUBLE_EQ(*val[0].step, 0);
  EXPECT_DOUBLE_EQ(*val[1].step, 2);  // "step k/N" counts updates done: after step 2/74, 2 updates
  ASSERT_EQ(train.size(), 3u);
  EXPECT_DOUBLE_EQ(*train[2].train_loss, 3.912);  // the newer "| loss" layout
  EXPECT_DOUBLE_EQ(*train[2].step, 3);
  EXPECT_DOUBLE_EQ(*train[0].lr, 1e-5);  // both layouts state the lr and the planned steps
  EXPECT_DOUBLE_EQ(*train[2].lr, 3e-5);
  EXPECT_DOUBLE_EQ(*train[2].total_steps, 74);
  EXPECT_DOUBLE_EQ(*val[1].total_steps, 74);
}

// llm.c main.log (llmc/logger.h).
TEST(Formats, LlmcMainLog) {
  TempDir dir;
  Read r = read_file(dir.file("main.log",
                              "s:0 tel:10.9864\ns:0 trl:11.0093 lr:0.000001 norm:15.42\ns:1 trl:10.9512 lr:0.000002 norm:14.01\n"
                              "s:250 tel:6.1234\ns:250 eval:0.2534\n"));
  EXPECT_EQ(r.format, sm::LogFormat::kLog);
  auto val = with(r.records, true);
  ASSERT_EQ(val.size(), 2u);
  EXPECT_DOUBLE_EQ(*val[1].step, 250);
  EXPECT_DOUBLE_EQ(*val[1].eval_loss, 6.1234);
  EXPECT_EQ(with(r.records, false).size(), 2u);  // the HellaSwag "eval:" accuracy is not a loss
  EXPECT_DOUBLE_EQ(*with(r.records, false)[1].lr, 0.000002);
}

// nanoGPT train.py stdout.
TEST(Formats, NanoGptStdout) {
  TempDir dir;
  std::string text =
      "Overriding config with config/train_shakespeare_char.py:\n# train a miniature character-level shakespeare model\n"
      "out_dir = 'out-shakespeare-char'\ntokens per iteration will be: 16,384\n"
      "found vocab_size = 65 (inside data/shakespeare_char/meta.pkl)\nInitializing a new model from scratch\n"
      "number of parameters: 10.65M\nnum decayed parameter tensors: 26, with 10,740,096 parameters\n"
      "using fused AdamW: True\ncompiling the model... (takes a ~minute)\n"
      "step 0: train loss 4.2874, val loss 4.2823\niter 0: loss 4.2649, time 29837.98ms, mfu -100.00%\n"
      "iter 10: loss 3.2418, time 101.92ms, mfu 3.65%\niter 20: loss 2.7892, time 102.38ms, mfu 3.65%\n"
      "step 250: train loss 1.9726, val loss 2.0671\nsaving checkpoint to out-shakespeare-char\n"
      "iter 250: loss 2.0417, time 13641.96ms, mfu 3.30%\n";
  Read r = read_file(dir.file("train.log", text));
  EXPECT_EQ(r.format, sm::LogFormat::kLog);
  EXPECT_DOUBLE_EQ(*r.records[0].tokens_per_step, 16384);
  auto val = with(r.records, true), train = with(r.records, false);
  ASSERT_EQ(val.size(), 2u);
  EXPECT_DOUBLE_EQ(*val[1].step, 250);
  EXPECT_DOUBLE_EQ(*val[1].eval_loss, 2.0671);
  EXPECT_FALSE(val[1].train_loss.has_value());  // "train loss" there is estimate_loss()'s, not a step's loss
  ASSERT_EQ(train.size(), 4u);  // the iter lines
  EXPECT_DOUBLE_EQ(*train[1].train_loss, 3.2418);
  EXPECT_DOUBLE_EQ(*train[1].step, 10);
}

TEST(Formats, CsvTsvAndScalinglabMetricsJsonl) {
  TempDir dir;
  Read csv = read_file(dir.file("run.csv", "step,tokens,train_loss,val_loss\n0,0,10.9,10.95\n100,409600,6.2,\n200,819200,5.1,5.3\n"));
  EXPECT_EQ(csv.format, sm::LogFormat::kCsv);
  ASSERT_EQ(csv.records.size(), 3u);
  EXPECT_FALSE(csv.records[1].eval_loss.has_value());  // empty cell: not logged at this step
  EXPECT_DOUBLE_EQ(*csv.records[2].tokens, 819200);
  EXPECT_DOUBLE_EQ(*csv.records[2].eval_loss, 5.3);
  EXPECT_EQ(csv.records[2].line, 4);

  Read tsv = read_file(dir.file("run.tsv", "iter\tloss\n10\t3.5\n20\t3.1\n"));
  EXPECT_EQ(tsv.format, sm::LogFormat::kTsv);
  ASSERT_EQ(tsv.records.size(), 2u);
  EXPECT_DOUBLE_EQ(*tsv.records[1].step, 20);
  EXPECT_DOUBLE_EQ(*tsv.records[1].train_loss, 3.1);

  // metrics.jsonl as scalinglab's trainer writes it (train::to_json is the writer).
  std::string jsonl;
  for (uint64_t s : {10u, 20u, 30u}) {
    scalinglab::train::MetricsRow row;
    row.step = s;
    row.tokens = s * 2048;
    row.flops = 6.0 * 1e6 * static_cast<double>(row.tokens);
    row.train_loss = 5.0 - 0.01 * static_cast<double>(s);
    if (s != 20) row.eval_loss = 5.1 - 0.01 * static_cast<double>(s);
    row.lr = 3e-3;
    jsonl += scalinglab::train::to_json(row).dump() + "\n";
  }
  Read j = read_file(dir.file("metrics.jsonl", jsonl));
  EXPECT_EQ(j.format, sm::LogFormat::kJsonl);
  ASSERT_EQ(j.records.size(), 3u);
  EXPECT_DOUBLE_EQ(*j.records[2].tokens, 30 * 2048);
  EXPECT_DOUBLE_EQ(*j.records[2].eval_loss, 4.8);
  EXPECT_FALSE(j.records[1].eval_loss.has_value());  // null on steps without an evaluation
  EXPECT_DOUBLE_EQ(*j.records[1].train_loss, 4.8);
}

// W&B "Export CSV" of a panel: quoted cells, "<run> - <metric>", __MIN/__MAX columns, empty cells.
TEST(Formats, WandbCsvExport) {
  TempDir dir;
  std::string text =
      "\"Step\",\"gpt2-124M-lr6e-4 - train/loss\",\"gpt2-124M-lr6e-4 - train/loss__MIN\",\"gpt2-124M-lr6e-4 - train/loss__MAX\","
      "\"gpt2-124M-lr6e-4 - val/loss\",\"gpt2-124M-lr6e-4 - val/loss__MIN\",\"gpt2-124M-lr6e-4 - val/loss__MAX\"\n"
      "\"0\",\"10.98\",\"10.97\",\"10.99\",\"10.95\",\"10.95\",\"10.95\"\n"
      "\"250\",\"6.12\",\"6.01\",\"6.30\",\"\",\"\",\"\"\n"
      "\"500\",\"4.51\",\"4.43\",\"4.60\",\"4.62\",\"4.62\",\"4.62\"\n";
  Read r = read_file(dir.file("wandb_export_2025-01-10T12_00_00.csv", text));
  EXPECT_EQ(r.format, sm::LogFormat::kWandb);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_DOUBLE_EQ(*r.records[2].step, 500);
  EXPECT_DOUBLE_EQ(*r.records[2].train_loss, 4.51);  // the mean column, not __MIN/__MAX
  EXPECT_DOUBLE_EQ(*r.records[2].eval_loss, 4.62);
  EXPECT_FALSE(r.records[1].eval_loss.has_value());

  // Two runs in one export: ambiguous unless a column is named.
  std::string two = "\"Step\",\"run-a - train/loss\",\"run-b - train/loss\"\n\"1\",\"5\",\"6\"\n";
  std::string e = error_of(dir.file("two.csv", two));
  EXPECT_NE(e.find("two.csv:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("run-a - train/loss"), std::string::npos) << e;
  sm::ParseOptions o;
  o.col_loss = "run-b - train/loss";
  o.metric = sm::Metric::kTrain;
  Read b = read_file(dir / "two.csv", o);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_DOUBLE_EQ(*b.records[0].train_loss, 6);
}

TEST(Formats, ForcedFormatAndDetection) {
  EXPECT_EQ(sm::detect_format("step,loss\n1,2\n", "x", false), sm::LogFormat::kCsv);
  EXPECT_EQ(sm::detect_format("{\"step\": 1}\n", "x", false), sm::LogFormat::kJsonl);
  EXPECT_EQ(sm::detect_format("step 0: train loss 4.2, val loss 4.1\n", "x", false), sm::LogFormat::kLog);
  EXPECT_EQ(sm::detect_format("num decayed parameter tensors: 26, with 10,740,096 parameters\n", "x", false), sm::LogFormat::kLog);
  EXPECT_EQ(sm::detect_format("step,lo", "x", false), sm::LogFormat::kAuto);  // no complete line yet
  EXPECT_EQ(sm::parse_format("wandb"), sm::LogFormat::kWandb);
  EXPECT_THROW(sm::parse_format("parquet"), std::invalid_argument);
  TempDir dir;
  sm::ParseOptions o;
  o.format = sm::LogFormat::kTsv;  // forced: the header is read with tabs, so "step,loss" is one column
  std::string e = error_of(dir.file("x.txt", "step,loss\n1,2\n"), o);
  EXPECT_NE(e.find("no loss column"), std::string::npos) << e;
}

TEST(Formats, BadInputNamesFileAndLine) {
  TempDir dir;
  // Non-numeric loss in each text family.
  std::string e = error_of(dir.file("a.log", "val loss 5.1\nstep 0: train loss abc (took 10 ms)\n"));
  EXPECT_NE(e.find("a.log:2: expected a number after 'train loss', got 'abc'"), std::string::npos) << e;
  e = error_of(dir.file("b.log", "s:0 tel:1O.2\n"));
  EXPECT_NE(e.find("b.log:1:"), std::string::npos) << e;
  e = error_of(dir.file("c.csv", "step,tokens,loss\n1,100,4.5\n2,200,four\n"));
  EXPECT_NE(e.find("c.csv:3: column 'loss': expected a number, got 'four'"), std::string::npos) << e;
  e = error_of(dir.file("d.jsonl", "{\"step\": 1, \"eval_loss\": 4.2}\n{\"step\": 2, \"eval_loss\": \"n/a\"}\n"));
  EXPECT_NE(e.find("d.jsonl:2: column 'eval_loss': expected a number"), std::string::npos) << e;
  // Missing columns: a short row, no loss column, a misspelt --col-loss.
  e = error_of(dir.file("e.csv", "step,tokens,loss\n1,100,4.5\n2,200\n3,300,4.4\n"));
  EXPECT_NE(e.find("e.csv:3: column 'loss': missing"), std::string::npos) << e;
  e = error_of(dir.file("f.csv", "step,tokens,accuracy\n1,100,0.5\n"));
  EXPECT_NE(e.find("f.csv:1: no loss column"), std::string::npos) << e;
  sm::ParseOptions o;
  o.col_loss = "val_los";
  e = error_of(dir.file("g.csv", "step,val_loss\n1,4\n"), o);
  EXPECT_NE(e.find("did you mean 'val_loss'"), std::string::npos) << e;
  e = error_of(dir.file("h.csv", "epoch,loss\n1,4\n"));
  EXPECT_NE(e.find("no step or tokens column"), std::string::npos) << e;
  // Invalid JSON in the middle is an error, not a truncation.
  e = error_of(dir.file("i.jsonl", "{\"step\": 1, \"loss\": 4}\n{\"step\": 2, \"loss\": \n{\"step\": 3, \"loss\": 3}\n"));
  EXPECT_NE(e.find("i.jsonl:2: not valid JSON"), std::string::npos) << e;
  e = error_of(dir / "missing.log");
  EXPECT_NE(e.find("missing.log: cannot open"), std::string::npos) << e;
}

TEST(Formats, TruncatedLastLineIsAWarningNotAnError) {
  TempDir dir;
  Read j = read_file(dir.file("m.jsonl", "{\"step\": 1, \"loss\": 4}\n{\"step\": 2, \"loss\": 3.9}\n{\"step\": 3, \"lo"));
  ASSERT_EQ(j.records.size(), 2u);
  ASSERT_EQ(j.warnings.size(), 1u);
  EXPECT_NE(j.warnings[0].find("m.jsonl:3:"), std::string::npos) << j.warnings[0];
  EXPECT_NE(j.warnings[0].find("ignored"), std::string::npos);
  // A complete CSV row without its final newline is data.
  Read c = read_file(dir.file("n.csv", "step,loss\n1,4\n2,3.9"));
  EXPECT_EQ(c.records.size(), 2u);
  EXPECT_TRUE(c.warnings.empty());
  // llm.c and nanoGPT end every line with a newline: an unterminated one was cut mid-write.
  Read l = read_file(dir.file("o.log", "step 0: train loss 4.5 (took 1 ms)\nstep 1: train loss 4.4"));
  EXPECT_EQ(l.records.size(), 1u);
  ASSERT_EQ(l.warnings.size(), 1u);
  EXPECT_NE(l.warnings[0].find("o.log:2: the last line has no newline"), std::string::npos) << l.warnings[0];
}

TEST(Formats, IncrementalFeedEqualsWholeFile) {
  // Fed a byte at a time (a log being written), the parser yields exactly the whole-file records.
  std::string text = "step 0: train loss 4.2874, val loss 4.2823\niter 0: loss 4.2649, time 29837.98ms, mfu -100.00%\n"
                     "iter 10: loss 3.2418, time 101.92ms, mfu 3.65%\nstep 250: train loss 1.9726, val loss 2.0671\n";
  auto whole = sm::make_parser(sm::LogFormat::kLog, "x", {});
  std::vector<sm::LogRecord> a, b;
  whole->feed(text, a);
  auto bytes = sm::make_parser(sm::LogFormat::kLog, "x", {});
  for (char c : text) bytes->feed(std::string_view(&c, 1), b);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].line, b[i].line);
    EXPECT_EQ(a[i].step, b[i].step);
    EXPECT_EQ(a[i].train_loss, b[i].train_loss);
    EXPECT_EQ(a[i].eval_loss, b[i].eval_loss);
  }
}
