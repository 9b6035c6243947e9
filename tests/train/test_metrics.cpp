#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scalinglab/io/table.h"
#include "scalinglab/train/metrics.h"

#include "common/temp_dir.h"

namespace fs = std::filesystem;
using namespace scalinglab::train;

using scalinglab::testing::TempDir;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

MetricsRow row(uint64_t step) {
  MetricsRow r;
  r.step = step;
  r.tokens = step * 1024;
  r.flops = 6.0 * 1e6 * static_cast<double>(r.tokens);
  r.train_loss = 3.0 - 0.01 * static_cast<double>(step);
  if (step % 2 == 0) r.eval_loss = 3.1 - 0.01 * static_cast<double>(step);
  r.lr = 1e-3;
  r.grad_norm = 0.5;
  r.elapsed_s = 0.25 * static_cast<double>(step);
  return r;
}

}  // namespace

TEST(BitsPerByte, ConvertsNatsPerToken) {
  EXPECT_DOUBLE_EQ(bits_per_byte(std::log(2.0), 1.0), 1.0);
  EXPECT_DOUBLE_EQ(bits_per_byte(std::log(256.0), 1.0), 8.0);  // uniform over bytes: 8 bits
  // A tokenizer averaging 4 bytes per token: 0.25 tokens per byte.
  EXPECT_DOUBLE_EQ(bits_per_byte(4 * std::log(2.0), 0.25), 1.0);
}

TEST(MetricsLog, WritesOneObjectPerLineReadableByTheTableReader) {
  TempDir d;
  fs::path p = d.path / "metrics.jsonl";
  {
    MetricsLog log(p.string());
    for (uint64_t s = 1; s <= 3; ++s) log.append(row(s));
  }
  auto t = scalinglab::io::read_table(p.string());
  ASSERT_EQ(t.rows.size(), 3u);
  for (const char* col : {"step", "tokens", "flops", "train_loss", "eval_loss", "lr", "grad_norm", "elapsed_s"})
    EXPECT_TRUE(t.find(col)) << col;
  auto steps = t.numeric(*t.find("step"));
  EXPECT_EQ(steps[2], 3.0);
  EXPECT_DOUBLE_EQ(t.numeric(*t.find("flops"))[0], 6.0 * 1e6 * 1024);
  EXPECT_EQ(t.rows[0][*t.find("eval_loss")], "");  // step 1 had no evaluation: null
  EXPECT_DOUBLE_EQ(t.numeric(*t.find("train_loss"))[1], 2.98);
}

TEST(MetricsLog, AppendsAcrossReopensAndWritesNonFiniteAsNull) {
  TempDir d;
  fs::path p = d.path / "m.jsonl";
  { MetricsLog(p.string()).append(row(1)); }
  {
    MetricsLog log(p.string());
    auto r = row(2);
    r.train_loss = NAN;
    r.grad_norm = INFINITY;
    log.append(r);
  }
  std::string s = slurp(p);
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 2);
  EXPECT_EQ(s.rfind(R"({"step":1,"tokens":1024,"flops":)", 0), 0u) << s;
  auto last = nlohmann::json::parse(s.substr(s.find('\n') + 1));
  EXPECT_TRUE(last["train_loss"].is_null());
  EXPECT_TRUE(last["grad_norm"].is_null());
  EXPECT_DOUBLE_EQ(last["eval_loss"].get<double>(), 3.08);
}

TEST(MetricsLog, CutsATornLastLine) {
  TempDir d;
  fs::path p = d.path / "m.jsonl";
  { MetricsLog(p.string()).append(row(1)); }
  std::ofstream(p, std::ios::app) << R"({"step": 2, "tok)";  // the crash
  { MetricsLog(p.string()).append(row(3)); }
  std::istringstream lines(slurp(p));
  std::string line;
  std::vector<uint64_t> steps;
  while (std::getline(lines, line)) steps.push_back(nlohmann::json::parse(line)["step"].get<uint64_t>());
  EXPECT_EQ(steps, (std::vector<uint64_t>{1, 3}));
}

TEST(MetricsLog, ResumeDropsStepsAfterTheCheckpoint) {
  TempDir d;
  fs::path p = d.path / "m.jsonl";
  {
    MetricsLog log(p.string());
    for (uint64_t s = 10; s <= 50; s += 10) log.append(row(s));
  }
  {
    MetricsLog log(p.string(), 30);  // checkpoint at step 30; steps 40, 50 will be redone
    log.append(row(40));
  }
  auto t = scalinglab::io::read_table(p.string());
  auto steps = t.numeric(*t.find("step"));
  EXPECT_EQ(steps, (std::vector<double>{10, 20, 30, 40}));
}
