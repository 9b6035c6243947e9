#pragma once
// Corpora on disk: raw text (a file, a directory of files, or the default KJV corpus) is turned
// once into two token files, train and validation, kept in a cache directory keyed by a hash of
// the text and the split rule. Runs then memory-map the files: many concurrent runs share one
// copy in the page cache and start instantly.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace scalinglab::data {

// The name that selects the default corpus: the King James Bible (public domain), shipped by the
// Debian packages bible-kjv-text (the compressed text) and bible-kjv (the `bible` program that
// decodes it). About 4.3 MB of English.
inline constexpr const char* kDefaultCorpus = "kjv";

// Fixed train/validation split: the text is cut into chunks of `chunk_bytes`, and chunk i goes
// to validation when i % val_every == val_every - 1 (5% with the defaults). Interleaving rather
// than "last 5%" keeps both splits from the same distribution: the tail of a single book
// (Revelation, for the KJV) would make validation loss measure a topic shift rather than
// generalisation. The rule depends only on byte positions, so the split never changes between
// runs or machines. The train file is the remaining chunks back to back, so a window can span
// the seam where a validation chunk was cut out: once per val_every - 1 train chunks, i.e. a
// fraction of about ctx / (19 * 4096) of windows (1.3% at ctx 1024) with the defaults.
struct SplitRule {
  uint64_t chunk_bytes = 4096;
  uint32_t val_every = 20;
};

// Splits a token stream by the rule above. Throws std::invalid_argument on a degenerate rule.
void split_train_val(std::span<const uint8_t> tokens, const SplitRule& rule, std::vector<uint8_t>& train,
                     std::vector<uint8_t>& val);

// The raw bytes of a corpus source: a file; a directory (every regular, non-hidden file below
// it, in byte order of relative path, with a newline added between files that lack one); or
// kDefaultCorpus. Throws io::InputError naming the source for unreadable or empty input.
std::string read_corpus_text(const std::string& source);

// A read-only memory-mapped token file: a 64-byte header then uint8 or uint16 tokens
// (little-endian). Move-only.
class TokenFile {
 public:
  static TokenFile open(const std::string& path);  // throws io::InputError on a bad/truncated file
  TokenFile(TokenFile&& other) noexcept;
  TokenFile& operator=(TokenFile&& other) noexcept;
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;
  ~TokenFile();

  size_t size() const { return n_tokens_; }
  uint32_t token_bytes() const { return token_bytes_; }
  uint32_t vocab_size() const { return vocab_size_; }
  uint64_t content_hash() const { return content_hash_; }
  const std::string& path() const { return path_; }
  uint32_t operator[](size_t i) const {
    return token_bytes_ == 1 ? data_[i] : static_cast<uint32_t>(data_[2 * i]) | (static_cast<uint32_t>(data_[2 * i + 1]) << 8);
  }
  // Copies tokens [start, start + len) as int32 (the model's index type); bounds are checked.
  void copy_window(size_t start, size_t len, int32_t* out) const;

 private:
  TokenFile() = default;
  void release();
  std::string path_;
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const uint8_t* data_ = nullptr;
  size_t n_tokens_ = 0;
  uint32_t token_bytes_ = 1;
  uint32_t vocab_size_ = 256;
  uint64_t content_hash_ = 0;
};

// Writes a token file atomically; uint8 on disk when vocab_size <= 256, else uint16 (vocab_size
// must be <= 65536 and every token < vocab_size).
void write_token_file(const std::string& path, std::span<const uint32_t> tokens, uint32_t vocab_size,
                      uint64_t content_hash = 0);
void write_token_file(const std::string& path, std::span<const uint8_t> tokens, uint64_t content_hash = 0);

// FNV-1a, 64 bit: a stable content fingerprint (not for security).
uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t h = 0xcbf29ce484222325ULL);

class Corpus {
 public:
  // Tokenizes `source` (see read_corpus_text) with the byte tokenizer into
  // <cache_dir>/<hash>/{train.tok,val.tok,meta.json}, unless that entry is already complete, and
  // maps both splits. meta.json is written last, so an interrupted build is simply redone.
  static Corpus build_or_open(const std::string& source, const std::string& cache_dir, const SplitRule& rule = {});

  const TokenFile& train() const { return train_; }
  const TokenFile& val() const { return val_; }
  const std::string& dir() const { return dir_; }
  uint64_t source_bytes() const { return source_bytes_; }
  bool was_cached() const { return was_cached_; }  // true when no tokenization ran

 private:
  Corpus(TokenFile train, TokenFile val) : train_(std::move(train)), val_(std::move(val)) {}
  TokenFile train_, val_;
  std::string dir_;
  uint64_t source_bytes_ = 0;
  bool was_cached_ = false;
};

}  // namespace scalinglab::data
