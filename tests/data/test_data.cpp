#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "scalinglab/data/corpus.h"
#include "scalinglab/data/sampler.h"
#include "scalinglab/data/tokenizer.h"
#include "scalinglab/io/input_error.h"

#include "common/temp_dir.h"

namespace fs = std::filesystem;
using namespace scalinglab::data;
using scalinglab::io::InputError;

using scalinglab::testing::TempDir;

namespace {

std::string pseudo_text(size_t n, uint32_t seed = 1) {
  std::string s(n, ' ');
  uint32_t x = seed;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>('a' + (x >> 24) % 26);
  }
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST(ByteTokenizer, RoundTripsArbitraryBytes) {
  ByteTokenizer tok;
  std::string s("h\xc3\xa9llo\0\xff", 8);
  auto ids = tok.encode(s);
  ASSERT_EQ(ids.size(), 8u);
  EXPECT_EQ(ids[1], 0xc3);
  EXPECT_EQ(ids[7], 0xff);
  EXPECT_EQ(tok.decode(ids), s);
  std::vector<int32_t> wide = {72, 105, 255};
  EXPECT_EQ(tok.decode(wide), "Hi\xff");
  wide.push_back(256);
  EXPECT_THROW(tok.decode(wide), std::out_of_range);
  EXPECT_EQ(tok.vocab_size(), 256u);
}

TEST(Split, EveryTwentiethChunkIsValidationAndNothingIsLost) {
  std::string text = pseudo_text(100 * 1000 + 37);
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  std::vector<uint8_t> train, val;
  SplitRule rule{1000, 20};
  split_train_val(bytes, rule, train, val);
  EXPECT_EQ(train.size() + val.size(), text.size());
  EXPECT_EQ(val.size(), 5u * 1000);  // chunks 19, 39, 59, 79, 99
  // Validation chunk 0 is text chunk 19; train resumes at chunk 20 after chunks 0..18.
  EXPECT_EQ(std::string(val.begin(), val.begin() + 1000), text.substr(19000, 1000));
  EXPECT_EQ(std::string(train.begin() + 19000, train.begin() + 20000), text.substr(20000, 1000));
  EXPECT_EQ(std::string(train.end() - 37, train.end()), text.substr(text.size() - 37));
  EXPECT_THROW(split_train_val(bytes, SplitRule{0, 20}, train, val), std::invalid_argument);
}

TEST(TokenFile, Uint8AndUint16RoundTripThroughMmap) {
  TempDir d;
  std::vector<uint32_t> small = {0, 1, 255, 7};
  write_token_file((d.path / "a.tok").string(), small, 256, 42);
  auto a = TokenFile::open((d.path / "a.tok").string());
  EXPECT_EQ(a.token_bytes(), 1u);
  EXPECT_EQ(fs::file_size(d.path / "a.tok"), 64u + 4u);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[2], 255u);
  EXPECT_EQ(a.content_hash(), 42u);

  std::vector<uint32_t> big = {0, 256, 65535, 300};
  write_token_file((d.path / "b.tok").string(), big, 65536);
  auto b = TokenFile::open((d.path / "b.tok").string());
  EXPECT_EQ(b.token_bytes(), 2u);
  EXPECT_EQ(fs::file_size(d.path / "b.tok"), 64u + 8u);
  int32_t w[4];
  b.copy_window(0, 4, w);
  EXPECT_EQ(w[1], 256);
  EXPECT_EQ(w[2], 65535);
  EXPECT_THROW(b.copy_window(2, 3, w), std::out_of_range);
  EXPECT_THROW(write_token_file((d.path / "c.tok").string(), big, 1000), std::invalid_argument);
}

TEST(TokenFile, DetectsTruncationAndBadMagic) {
  TempDir d;
  std::vector<uint32_t> t(100, 3);
  std::string p = (d.path / "t.tok").string();
  write_token_file(p, t, 256);
  fs::resize_file(p, 64 + 50);
  EXPECT_NE(error_of([&] { TokenFile::open(p); }).find("truncated"), std::string::npos);
  std::string q = d.file("q.tok", std::string(80, 'x'));
  EXPECT_NE(error_of([&] { TokenFile::open(q); }).find("bad magic"), std::string::npos);
  std::string r = d.file("r.tok", "short");
  EXPECT_NE(error_of([&] { TokenFile::open(r); }).find("truncated"), std::string::npos);
}

TEST(Corpus, BuildsOnceThenReusesTheCacheAndMapsBothSplits) {
  TempDir d;
  std::string text = pseudo_text(100000);  // 25 chunks of 4 KiB (last partial): chunk 19 is validation
  std::string src = d.file("corpus.txt", text);
  std::string cache = (d.path / "cache").string();
  auto c1 = Corpus::build_or_open(src, cache);
  EXPECT_FALSE(c1.was_cached());
  EXPECT_EQ(c1.source_bytes(), text.size());
  EXPECT_EQ(c1.train().size() + c1.val().size(), text.size());
  EXPECT_EQ(c1.val().size(), 4096u);
  int32_t first[8];
  c1.val().copy_window(0, 8, first);
  EXPECT_EQ(first[0], static_cast<uint8_t>(text[19 * 4096]));
  auto c2 = Corpus::build_or_open(src, cache);
  EXPECT_TRUE(c2.was_cached());
  EXPECT_EQ(c2.dir(), c1.dir());
  EXPECT_TRUE(fs::exists(fs::path(c1.dir()) / "meta.json"));
  // Changing the text changes the cache key: no stale reuse.
  d.file("corpus.txt", text + "x");
  auto c3 = Corpus::build_or_open(src, cache);
  EXPECT_FALSE(c3.was_cached());
  EXPECT_NE(c3.dir(), c1.dir());
}

TEST(Corpus, TooSmallForAValidationChunkIsAnError) {
  TempDir d;
  std::string src = d.file("small.txt", pseudo_text(5000));
  std::string e = error_of([&] { Corpus::build_or_open(src, (d.path / "cache").string()); });
  EXPECT_NE(e.find("empty validation split"), std::string::npos) << e;
  auto c = Corpus::build_or_open(src, (d.path / "cache").string(), SplitRule{100, 10});
  EXPECT_EQ(c.val().size(), 500u);
}

TEST(Corpus, DirectoryIsReadInSortedOrderSkippingHiddenFiles) {
  TempDir d;
  d.file("src/b.txt", "second");
  d.file("src/a/z.txt", "first\n");
  d.file("src/.hidden", "never");
  d.file("src/.git/config", "never");
  EXPECT_EQ(read_corpus_text((d.path / "src").string()), "first\nsecond");
}

TEST(Corpus, ClearErrorsForMissingEmptyAndUnreadableInput) {
  TempDir d;
  std::string missing = (d.path / "nope.txt").string();
  EXPECT_NE(error_of([&] { read_corpus_text(missing); }).find("nope.txt: corpus not found"), std::string::npos);
  std::string empty = d.file("empty.txt", "");
  EXPECT_NE(error_of([&] { read_corpus_text(empty); }).find("empty.txt: corpus is empty"), std::string::npos);
  fs::create_directories(d.path / "emptydir");
  EXPECT_NE(error_of([&] { read_corpus_text((d.path / "emptydir").string()); }).find("no files"), std::string::npos);
  if (::geteuid() != 0) {  // root reads anything, so permissions cannot make a file unreadable
    std::string locked = d.file("locked.txt", "text");
    fs::permissions(locked, fs::perms::none);
    EXPECT_NE(error_of([&] { read_corpus_text(locked); }).find("cannot read"), std::string::npos);
  }
  EXPECT_THROW(read_corpus_text(empty), InputError);
}

TEST(Sampler, SameSeedAndStepGiveSameBatchInAnyOrder) {
  TempDir d;
  std::vector<uint32_t> t(10000);
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint32_t>(i * 7919 % 256);
  write_token_file((d.path / "t.tok").string(), t, 256);
  auto tf = TokenFile::open((d.path / "t.tok").string());
  BatchSampler s(tf, 4, 16, 1234);
  auto b5 = s.batch(5);
  auto b0 = s.batch(0);
  BatchSampler resumed(tf, 4, 16, 1234);
  EXPECT_EQ(resumed.batch(5), b5);  // a resumed run reads step 5 without replaying 0..4
  EXPECT_EQ(s.batch(0), b0);
  EXPECT_NE(b0, b5);
  BatchSampler other(tf, 4, 16, 1235);
  EXPECT_NE(other.batch(5), b5);
  // Rows are contiguous windows of the split.
  for (uint32_t r = 0; r < 4; ++r) {
    uint64_t st = s.window_start(5, r);
    for (uint32_t k = 0; k < 17; ++k) EXPECT_EQ(b5[r * 17 + k], static_cast<int32_t>(t[st + k]));
  }
}

TEST(Sampler, StartsCoverTheWholeSplitUniformly) {
  TempDir d;
  std::vector<uint32_t> t(1000, 1);
  write_token_file((d.path / "t.tok").string(), t, 256);
  auto tf = TokenFile::open((d.path / "t.tok").string());
  BatchSampler s(tf, 8, 990, 7);  // 10 valid starts: 0..9
  std::vector<int> counts(10, 0);
  for (uint64_t step = 0; step < 1000; ++step)
    for (uint32_t r = 0; r < 8; ++r) {
      uint64_t st = s.window_start(step, r);
      ASSERT_LT(st, 10u);
      counts[st]++;
    }
  // 8000 draws over 10 starts: each ~800 +- 3 sigma (sigma ~ 27).
  for (int c : counts) EXPECT_NEAR(c, 800, 100);
}

TEST(Sampler, ContextLongerThanSplitIsAOneLineError) {
  TempDir d;
  std::vector<uint32_t> t(100, 1);
  write_token_file((d.path / "val.tok").string(), t, 256);
  auto tf = TokenFile::open((d.path / "val.tok").string());
  std::string e = error_of([&] { BatchSampler(tf, 2, 100, 0); });
  EXPECT_NE(e.find("context length 100 needs at least 101 tokens"), std::string::npos) << e;
  EXPECT_NE(e.find("val.tok has 100"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_NO_THROW(BatchSampler(tf, 2, 99, 0));
}

TEST(Sampler, EvalBatchesTileTheSplitWithoutOverlap) {
  TempDir d;
  std::vector<uint32_t> t(105);
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint32_t>(i);
  write_token_file((d.path / "v.tok").string(), t, 256);
  auto tf = TokenFile::open((d.path / "v.tok").string());
  BatchSampler s(tf, 4, 10, 0);
  EXPECT_EQ(s.num_eval_windows(), 10u);  // windows need 11 tokens: starts 0,10,...,90
  std::vector<int32_t> out(4 * 11);
  EXPECT_EQ(s.eval_batch(8, out.data()), 2u);
  EXPECT_EQ(out[0], 80);
  EXPECT_EQ(out[10], 90);  // last target of window 8 is the first input of window 9
  EXPECT_EQ(out[11], 90);
  EXPECT_EQ(out[21], 100);
}

TEST(Corpus, DefaultKjvCorpusGivesAtLeastThreeMegabytes) {
  if (std::system("command -v bible >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Debian package bible-kjv not installed (scripts/install-deps.sh)";
  TempDir d;
  auto c = Corpus::build_or_open(kDefaultCorpus, (d.path / "cache").string());
  EXPECT_GE(c.source_bytes(), 3u << 20);
  EXPECT_NEAR(static_cast<double>(c.val().size()) / c.source_bytes(), 0.05, 0.001);
  ByteTokenizer tok;
  std::vector<int32_t> head(100);
  c.train().copy_window(0, head.size(), head.data());
  EXPECT_NE(tok.decode(head).find("In the beginning God created the heaven and the earth."), std::string::npos)
      << tok.decode(head);
}
