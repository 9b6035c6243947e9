#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "scalinglab/train/checkpoint.h"

#include "common/temp_dir.h"

namespace fs = std::filesystem;
using namespace scalinglab::train;

using scalinglab::testing::TempDir;

namespace {

Checkpoint sample(size_t n = 1000) {
  Checkpoint c;
  c.config_json = R"({"d_model": 64, "n_layers": 2})";
  c.step = 1234;
  c.tokens_seen = 1234ull * 64 * 256;
  c.adam_step = 1230;
  c.elapsed_s = 3600.5;
  for (size_t i = 0; i < n; ++i) {
    c.params.push_back(0.001f * static_cast<float>(i) - 0.3f);
    c.adam_m.push_back(1e-4f * static_cast<float>(i % 17));
    c.adam_v.push_back(1e-8f * static_cast<float>(i % 5 + 1));
  }
  c.sampler = {0xdeadbeefcafeull, 64, 256};
  c.rng_state = {1, 2, 3, 4, 5};
  c.tensors = {{"wte", 0, n - 100, true}, {"ln.g", n - 100, 100, false}};
  return c;
}

std::vector<char> read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string& p, const std::vector<char>& b) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(b.data(), static_cast<std::streamsize>(b.size()));
}
// Recomputes the trailer so a deliberately inconsistent file passes the checksum.
void reseal(std::vector<char>& b) {
  uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size() - 8)));
  std::memcpy(b.data() + b.size() - 8, &crc, 4);
}

std::string load_error(const std::string& p, std::optional<uint64_t> n = std::nullopt) {
  try {
    load_checkpoint(p, n);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "<loaded>";
}

}  // namespace

TEST(Checkpoint, RoundTripsEveryField) {
  TempDir d;
  std::string p = (d.path / "ckpt.bin").string();
  auto c = sample();
  save_checkpoint(p, c);
  auto r = load_checkpoint(p, 1000);
  EXPECT_EQ(r.config_json, c.config_json);
  EXPECT_EQ(r.step, c.step);
  EXPECT_EQ(r.tokens_seen, c.tokens_seen);
  EXPECT_EQ(r.adam_step, c.adam_step);
  EXPECT_EQ(r.elapsed_s, c.elapsed_s);
  EXPECT_EQ(r.params, c.params);
  EXPECT_EQ(r.adam_m, c.adam_m);
  EXPECT_EQ(r.adam_v, c.adam_v);
  EXPECT_EQ(r.sampler, c.sampler);
  EXPECT_EQ(r.rng_state, c.rng_state);
  EXPECT_EQ(r.tensors, c.tensors);
  EXPECT_NO_THROW(verify_layout(r, c.tensors, p));
  // Header + 8 section headers + payloads + trailer: nothing unaccounted for.
  const size_t tens_bytes =
      std::string(R"([{"is_matrix":true,"name":"wte","offset":0,"size":900},{"is_matrix":false,"name":"ln.g","offset":900,"size":100}])").size();
  EXPECT_EQ(fs::file_size(p), 64u + 8 * 16 + c.config_json.size() + 32 + 3 * 4000 + 16 + 5 + tens_bytes + 8);
  // No temporary left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()), 1);
}

TEST(Checkpoint, EmptyConfigAndRngRoundTrip) {
  TempDir d;
  std::string p = (d.path / "c.bin").string();
  Checkpoint c;
  save_checkpoint(p, c);
  auto r = load_checkpoint(p, 0);
  EXPECT_TRUE(r.params.empty());
  EXPECT_TRUE(r.config_json.empty());
}

TEST(Checkpoint, TruncationAtAnyPointIsReportedAsTruncation) {
  TempDir d;
  std::string p = (d.path / "c.bin").string();
  save_checkpoint(p, sample());
  auto full = read_bytes(p);
  for (size_t keep : {size_t{0}, size_t{5}, size_t{40}, size_t{64}, size_t{500}, full.size() / 2, full.size() - 8,
                      full.size() - 1}) {
    write_bytes(p, std::vector<char>(full.begin(), full.begin() + static_cast<long>(keep)));
    std::string e = load_error(p);
    EXPECT_NE(e.find("truncated"), std::string::npos) << "kept " << keep << ": " << e;
    EXPECT_EQ(e.rfind(p, 0), 0u) << e;  // message starts with the path
  }
}

TEST(Checkpoint, BadMagicIsNotACheckpoint) {
  TempDir d;
  std::string p = (d.path / "c.bin").string();
  save_checkpoint(p, sample());
  auto b = read_bytes(p);
  b[0] = 'X';
  write_bytes(p, b);
  EXPECT_NE(load_error(p).find("not a scalinglab checkpoint (bad magic)"), std::string::npos);
  write_bytes(p, std::vector<char>(1000, '{'));
  EXPECT_NE(load_error(p).find("bad magic"), std::string::npos);
}

TEST(Checkpoint, AnyFlippedBitFailsTheChecksum) {
  TempDir d;
  std::string p = (d.path / "c.bin").string();
  save_checkpoint(p, sample());
  auto good = read_bytes(p);
  // One bit in the config, in a parameter, in v, in the sampler seed, and in the stored CRC.
  for (size_t at : {size_t{64 + 16 + 3}, size_t{300}, good.size() - 200, good.size() - 40, good.size() - 6}) {
    auto b = good;
    b[at] ^= 0x10;
    write_bytes(p, b);
    std::string e = load_error(p);
    EXPECT_NE(e.find("checksum mismatch"), std::string::npos) << "byte " << at << ": " << e;
  }
}

TEST(Checkpoint, MismatchedSizesAreRejected) {
  TempDir d;
  std::string p = (d.path / "c.bin").string();
  save_checkpoint(p, sample());
  // Against the model's parameter count.
  std::string e = load_error(p, 999);
  EXPECT_NE(e.find("checkpoint has 1000 parameters but the model has 999"), std::string::npos) << e;
  // A consistent checksum over inconsistent contents (header says 1001 parameters).
  auto b = read_bytes(p);
  uint64_t n = 1001;
  std::memcpy(b.data() + 16, &n, 8);
  reseal(b);
  write_bytes(p, b);
  e = load_error(p);
  EXPECT_NE(e.find("section PARM has 4000 bytes, expected 4004"), std::string::npos) << e;
  // Extra bytes after the trailer.
  save_checkpoint(p, sample());
  b = read_bytes(p);
  b.push_back(0);
  write_bytes(p, b);
  EXPECT_NE(load_error(p).find("1 unexpected trailing bytes"), std::string::npos);
  // Saving moments that do not match the parameters.
  auto c = sample();
  c.adam_v.pop_back();
  EXPECT_THROW(save_checkpoint(p, c), CheckpointError);
}

TEST(Checkpoint, LayoutMismatchNamesTheTensor) {
  auto c = sample();
  auto model = c.tensors;
  model[1].is_matrix = true;
  try {
    verify_layout(c, model, "ck.bin");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("ck.bin: tensor 1 is 'ln.g'"), std::string::npos) << e.what();
  }
  model = c.tensors;
  model.push_back({"extra", 1000, 0, false});
  EXPECT_THROW(verify_layout(c, model, "ck.bin"), CheckpointError);
  model = {{"wte", 0, 1000, true}};  // same parameter count, different tensors
  EXPECT_THROW(verify_layout(c, model, "ck.bin"), CheckpointError);
}

TEST(Checkpoint, UnsupportedVersionIsNamed) {
  TempDir d;
  std::string p = (d.path / "c.bin").string();
  save_checkpoint(p, sample());
  auto b = read_bytes(p);
  uint32_t v = 7;
  std::memcpy(b.data() + 8, &v, 4);
  reseal(b);
  write_bytes(p, b);
  EXPECT_NE(load_error(p).find("version 7 is not supported"), std::string::npos);
}

TEST(Checkpoint, FailedSaveKeepsThePreviousCheckpoint) {
  TempDir d;
  std::string p = (d.path / "c.bin").string();
  auto c = sample();
  save_checkpoint(p, c);
  auto bad = sample(10);
  bad.adam_m.clear();
  EXPECT_THROW(save_checkpoint(p, bad), CheckpointError);
  EXPECT_EQ(load_checkpoint(p).step, c.step);
  // A directory that cannot be written: the error names the path, nothing is created.
  EXPECT_THROW(save_checkpoint((d.path / "missing" / "c.bin").string(), c), std::runtime_error);
  EXPECT_EQ(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()), 1);
  EXPECT_NE(load_error((d.path / "nope.bin").string()).find("cannot open checkpoint"), std::string::npos);
}
