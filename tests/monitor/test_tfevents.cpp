// TensorBoard event files: written by the test writer (real framing, masked CRC32C, Event
// protobufs), read back; corrupted, truncated and malformed files; and a file written by
// PyTorch's SummaryWriter when /usr/bin/python3 has it.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/shell.h"
#include "common/temp_dir.h"
#include "monitor/read_log.h"
#include "monitor/tfevents_writer.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/monitor/log_reader.h"
#include "scalinglab/monitor/tfevents.h"

namespace sm = scalinglab::monitor;
namespace st = scalinglab::testing;
using scalinglab::testing::TempDir;

namespace {

// An event file of a run: file_version, then train/loss every 10 steps and val/loss every 50
// (val as a TF2 tensor scalar), plus an unrelated tag.
std::string sample_file(int steps = 200) {
  std::string f = st::record(st::file_version_event(1.7e9));
  for (int s = 0; s <= steps; s += 10) {
    f += st::record(st::event(1.7e9 + s, s, {st::simple_value("train/loss", 5.0f - 0.01f * static_cast<float>(s))}));
    f += st::record(st::event(1.7e9 + s, s, {st::simple_value("lr", 3e-4f)}));
    if (s % 50 == 0)
      f += st::record(st::event(1.7e9 + s, s, {st::tensor_value("val/loss", 5.1f - 0.01f * static_cast<float>(s), s % 100 == 0)}));
  }
  return f;
}

using Read = scalinglab::testing::ReadLog;

Read read_file(const std::string& path) { return scalinglab::testing::read_log(path); }

std::string error_of(const std::string& path) { return scalinglab::testing::read_error(path); }

}  // namespace

TEST(TfEvents, ReadsSimpleAndTensorScalars) {
  TempDir dir;
  // The name does not matter: the framing CRC identifies the format.
  Read r = read_file(dir.file("run.bin", sample_file()));
  EXPECT_EQ(r.format, sm::LogFormat::kTfevents);
  std::vector<sm::LogRecord> train, val, lr;
  for (const auto& x : r.records) (x.eval_loss ? val : x.train_loss ? train : lr).push_back(x);
  ASSERT_EQ(train.size(), 21u);
  ASSERT_EQ(val.size(), 5u);
  ASSERT_EQ(lr.size(), 21u);  // the "lr" tag: records with only the lr
  EXPECT_FLOAT_EQ(static_cast<float>(*lr[3].lr), 3e-4f);
  EXPECT_DOUBLE_EQ(*lr[3].step, 30);
  EXPECT_DOUBLE_EQ(*train[3].step, 30);
  EXPECT_FLOAT_EQ(static_cast<float>(*train[3].train_loss), 5.0f - 0.3f);
  EXPECT_DOUBLE_EQ(*val[2].step, 100);
  EXPECT_FLOAT_EQ(static_cast<float>(*val[2].eval_loss), 5.1f - 1.0f);  // tensor_content form
  EXPECT_FLOAT_EQ(static_cast<float>(*val[1].eval_loss), 5.1f - 0.5f);  // float_val form
  EXPECT_GT(val[1].offset, 0);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(TfEvents, BadDataCrcNamesRecordAndOffset) {
  TempDir dir;
  std::string f = sample_file();
  // Corrupt one byte inside the 3rd record's data.
  std::string first = st::record(st::file_version_event(1.7e9));
  std::string second = st::record(st::event(1.7e9, 0, {st::simple_value("train/loss", 5.0f)}));
  size_t third = first.size() + second.size();
  f[third + 12 + 3] ^= 0x5A;
  std::string e = error_of(dir.file("events.out.tfevents.1.host", f));
  EXPECT_NE(e.find("record 3 at byte offset " + std::to_string(third) + ": bad data CRC"), std::string::npos) << e;
  // A corrupted length field fails its own CRC.
  std::string g = sample_file();
  g[first.size() + 1] ^= 0x01;
  e = error_of(dir.file("events.out.tfevents.2.host", g));
  EXPECT_NE(e.find("record 2 at byte offset " + std::to_string(first.size()) + ": bad length CRC"), std::string::npos) << e;
}

TEST(TfEvents, TruncatedLastRecordIsAWarning) {
  TempDir dir;
  std::string f = sample_file();
  std::string cut = f.substr(0, f.size() - 7);
  Read r = read_file(dir.file("events.out.tfevents.3.host", cut));
  EXPECT_FALSE(r.records.empty());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("truncated"), std::string::npos) << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("byte offset"), std::string::npos) << r.warnings[0];
  // Cut inside the 12-byte header of the next record.
  Read h = read_file(dir.file("events.out.tfevents.4.host", f + f.substr(0, 5)));
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_NE(h.warnings[0].find("only 5 of its 12 header bytes"), std::string::npos) << h.warnings[0];
}

TEST(TfEvents, MalformedProtobufWithGoodCrc) {
  TempDir dir;
  std::string bad_event;
  st::put_bytes(bad_event, 5, "\x0a\x20short");  // Summary.value claims 32 bytes, has 5
  std::string f = st::record(st::file_version_event(1.0)) + st::record(bad_event);
  std::string e = error_of(dir.file("events.out.tfevents.5.host", f));
  EXPECT_NE(e.find("record 2 at byte offset"), std::string::npos) << e;
  EXPECT_NE(e.find("malformed Event protobuf"), std::string::npos) << e;
}

TEST(TfEvents, IncrementalFramingAcrossArbitraryChunks) {
  std::string f = sample_file(100);
  sm::TfRecordReader whole("x"), chunks("x");
  whole.feed(f);
  std::vector<sm::TfRecord> a, b;
  sm::TfRecord r;
  while (whole.next(r)) a.push_back(r);
  for (size_t i = 0; i < f.size(); i += 7) {
    chunks.feed(std::string_view(f).substr(i, 7));
    while (chunks.next(r)) b.push_back(r);
  }
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].data, b[i].data);
    EXPECT_EQ(a[i].offset, b[i].offset);
    EXPECT_EQ(a[i].index, static_cast<long>(i + 1));
  }
  EXPECT_EQ(chunks.pending(), 0u);
}

// A file written by PyTorch's own SummaryWriter (needs the tensorboard package for
// /usr/bin/python3, which Debian 12 does not package).
TEST(TfEvents, ReadsPyTorchSummaryWriterFile) {
  // Look for the tensorboard package first (cheap), then import torch's writer (slow).
  auto probe = st::shell("/usr/bin/python3 -c 'import importlib.util, sys; "
                         "sys.exit(\"no module named tensorboard\" if importlib.util.find_spec(\"tensorboard\") is None else 0)'");
  if (probe.code == 0) probe = st::shell("/usr/bin/python3 -c 'import torch.utils.tensorboard' 2>&1");
  if (probe.code != 0)
    GTEST_SKIP() << "/usr/bin/python3 cannot import torch.utils.tensorboard (the tensorboard package is not installed; "
                    "Debian 12 has no python3-tensorboard): " << probe.out.substr(0, 200);
  TempDir dir;
  std::string script =
      "import sys\nfrom torch.utils.tensorboard import SummaryWriter\nw = SummaryWriter(sys.argv[1])\n"
      "for s in range(0, 101, 10):\n    w.add_scalar('train/loss', 5.0 - 0.01 * s, s)\n"
      "    if s % 50 == 0: w.add_scalar('val/loss', 5.1 - 0.01 * s, s)\nw.close()\n";
  std::string py = dir.file("w.py", script);
  auto run = st::shell("/usr/bin/python3 " + py + " " + (dir / "tb"));
  ASSERT_EQ(run.code, 0) << run.out;
  std::string events;
  for (const auto& e : std::filesystem::directory_iterator(dir.path / "tb")) events = e.path().string();
  Read r = read_file(events);
  EXPECT_EQ(r.format, sm::LogFormat::kTfevents);
  int train = 0, val = 0;
  for (const auto& x : r.records) (x.eval_loss ? val : train)++;
  EXPECT_EQ(train, 11);
  EXPECT_EQ(val, 3);
}
