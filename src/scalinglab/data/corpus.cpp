#include "scalinglab/data/corpus.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "scalinglab/data/tokenizer.h"
#include "scalinglab/io/atomic_file.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/io/read_file.h"

namespace scalinglab::data {
namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, "token and checkpoint files are little-endian");

namespace {

constexpr char kMagic[8] = {'S', 'L', 'T', 'O', 'K', 'E', 'N', 'S'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;
// Bump when tokenization or the cache layout changes, so old cache entries are not reused.
constexpr uint64_t kCacheFormat = 1;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t token_bytes;
  uint32_t vocab_size;
  uint32_t reserved;
  uint64_t n_tokens;
  uint64_t content_hash;
  uint8_t pad[kHeaderBytes - 40];
};
static_assert(sizeof(Header) == kHeaderBytes);

// The KJV ships compressed in a format only the package's own `bible` program decodes; -l with a
// wide line puts one verse per line, making the text independent of the terminal's COLUMNS.
std::string read_default_corpus() {
  FILE* p = ::popen("bible -l 100000 Gen1:1-Rev22:21 2>/dev/null", "r");
  std::string text;
  if (p) {
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    ::pclose(p);
  }
  // `bible` exits 0 even when its data file is missing, so judge by the output.
  if (text.size() < (3u << 20))
    throw io::InputError(kDefaultCorpus, 0, "",
                         "default corpus unavailable: install the Debian packages bible-kjv and bible-kjv-text "
                         "(scripts/install-deps.sh) or pass a text file or directory");
  return text;
}

}  // namespace

uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t h) {
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}

void split_train_val(std::span<const uint8_t> tokens, const SplitRule& rule, std::vector<uint8_t>& train,
                     std::vector<uint8_t>& val) {
  if (rule.chunk_bytes == 0 || rule.val_every < 2)
    throw std::invalid_argument("split rule needs chunk_bytes > 0 and val_every >= 2");
  train.clear();
  val.clear();
  train.reserve(tokens.size());
  for (uint64_t start = 0, chunk = 0; start < tokens.size(); start += rule.chunk_bytes, ++chunk) {
    size_t len = std::min<uint64_t>(rule.chunk_bytes, tokens.size() - start);
    auto& dst = (chunk % rule.val_every == rule.val_every - 1) ? val : train;
    dst.insert(dst.end(), tokens.begin() + start, tokens.begin() + start + len);
  }
}

std::string read_corpus_text(const std::string& source) {
  if (source == kDefaultCorpus) return read_default_corpus();
  std::error_code ec;
  auto st = fs::status(source, ec);
  if (ec || !fs::exists(st)) throw io::InputError(source, 0, "", "corpus not found (expected a text file, a directory, or '" + std::string(kDefaultCorpus) + "')");
  std::string text;
  if (fs::is_directory(st)) {
    std::vector<std::string> files;
    for (auto it = fs::recursive_directory_iterator(source, fs::directory_options::none, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!name.empty() && name[0] == '.') {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) files.push_back(fs::relative(it->path(), source).generic_string());
    }
    if (ec) throw io::InputError(source, 0, "", "cannot list corpus directory (" + ec.message() + ")");
    std::sort(files.begin(), files.end());
    for (const auto& rel : files) {
      if (!text.empty() && text.back() != '\n') text.push_back('\n');
      text += io::read_file((fs::path(source) / rel).string(), "corpus file");
    }
    if (files.empty()) throw io::InputError(source, 0, "", "corpus directory contains no files");
  } else {
    text = io::read_file(source, "corpus file");
  }
  if (text.empty()) throw io::InputError(source, 0, "", "corpus is empty");
  return text;
}

// ---- TokenFile ----

TokenFile TokenFile::open(const std::string& path) {
  TokenFile tf;
  tf.path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io::InputError(path, 0, "", "cannot open token file (" + std::string(std::strerror(errno)) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw io::InputError(path, 0, "", "cannot stat token file (" + std::string(std::strerror(err)) + ")");
  }
  size_t bytes = static_cast<size_t>(st.st_size);
  if (bytes < kHeaderBytes) {
    ::close(fd);
    throw io::InputError(path, 0, "", "token file truncated (" + std::to_string(bytes) + " bytes, header alone is 64)");
  }
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  int err = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) throw io::InputError(path, 0, "", "cannot map token file (" + std::string(std::strerror(err)) + ")");
  tf.map_ = map;
  tf.map_bytes_ = bytes;
  Header h;
  std::memcpy(&h, map, sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) throw io::InputError(path, 0, "", "not a scalinglab token file (bad magic)");
  if (h.version != kVersion)
    throw io::InputError(path, 0, "", "token file version " + std::to_string(h.version) + " is not supported (expected 1)");
  if (h.token_bytes != 1 && h.token_bytes != 2)
    throw io::InputError(path, 0, "", "token file has invalid token width " + std::to_string(h.token_bytes));
  if (h.n_tokens > (bytes - kHeaderBytes) / h.token_bytes || kHeaderBytes + h.n_tokens * h.token_bytes != bytes)
    throw io::InputError(path, 0, "", "token file size " + std::to_string(bytes) + " does not match its header (" +
                                          std::to_string(h.n_tokens) + " tokens): truncated or corrupted");
  tf.data_ = static_cast<const uint8_t*>(map) + kHeaderBytes;
  tf.n_tokens_ = h.n_tokens;
  tf.token_bytes_ = h.token_bytes;
  tf.vocab_size_ = h.vocab_size;
  tf.content_hash_ = h.content_hash;
  return tf;
}

TokenFile::TokenFile(TokenFile&& o) noexcept { *this = std::move(o); }

TokenFile& TokenFile::operator=(TokenFile&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    map_ = std::exchange(o.map_, nullptr);
    map_bytes_ = std::exchange(o.map_bytes_, 0);
    data_ = std::exchange(o.data_, nullptr);
    n_tokens_ = std::exchange(o.n_tokens_, 0);
    token_bytes_ = o.token_bytes_;
    vocab_size_ = o.vocab_size_;
    content_hash_ = o.content_hash_;
  }
  return *this;
}

TokenFile::~TokenFile() { release(); }

void TokenFile::release() {
  if (map_) ::munmap(map_, map_bytes_);
  map_ = nullptr;
  data_ = nullptr;
}

void TokenFile::copy_window(size_t start, size_t len, int32_t* out) const {
  if (start > n_tokens_ || len > n_tokens_ - start)
    throw std::out_of_range(path_ + ": window [" + std::to_string(start) + ", +" + std::to_string(len) +
                            ") outside " + std::to_string(n_tokens_) + " tokens");
  if (token_bytes_ == 1) {
    for (size_t i = 0; i < len; ++i) out[i] = data_[start + i];
  } else {
    for (size_t i = 0; i < len; ++i) out[i] = static_cast<int32_t>((*this)[start + i]);
  }
}

namespace {
void write_header(io::AtomicFileWriter& w, uint32_t token_bytes, uint32_t vocab, uint64_t n, uint64_t hash) {
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kVersion;
  h.token_bytes = token_bytes;
  h.vocab_size = vocab;
  h.n_tokens = n;
  h.content_hash = hash;
  w.write(&h, sizeof h);
}
}  // namespace

void write_token_file(const std::string& path, std::span<const uint32_t> tokens, uint32_t vocab_size,
                      uint64_t content_hash) {
  if (vocab_size == 0 || vocab_size > 65536)
    throw std::invalid_argument("token file: vocab size " + std::to_string(vocab_size) + " outside [1, 65536]");
  uint32_t width = vocab_size <= 256 ? 1 : 2;
  std::vector<uint8_t> buf(tokens.size() * width);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] >= vocab_size)
      throw std::invalid_argument("token file: token " + std::to_string(tokens[i]) + " at position " +
                                  std::to_string(i) + " is >= vocab size " + std::to_string(vocab_size));
    buf[i * width] = static_cast<uint8_t>(tokens[i]);
    if (width == 2) buf[i * 2 + 1] = static_cast<uint8_t>(tokens[i] >> 8);
  }
  io::AtomicFileWriter w(path);
  write_header(w, width, vocab_size, tokens.size(), content_hash);
  w.write(buf.data(), buf.size());
  w.commit();
}

void write_token_file(const std::string& path, std::span<const uint8_t> tokens, uint64_t content_hash) {
  io::AtomicFileWriter w(path);
  write_header(w, 1, 256, tokens.size(), content_hash);
  w.write(tokens.data(), tokens.size());
  w.commit();
}

// ---- Corpus ----

Corpus Corpus::build_or_open(const std::string& source, const std::string& cache_dir, const SplitRule& rule) {
  std::string text = read_corpus_text(source);
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  uint64_t params[3] = {kCacheFormat, rule.chunk_bytes, rule.val_every};
  uint64_t hash = fnv1a64(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(params), sizeof params),
                          fnv1a64(bytes));
  char key[17];
  std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(hash));
  fs::path dir = fs::path(cache_dir) / (std::string("byte-") + key);
  fs::path meta = dir / "meta.json";

  bool cached = fs::exists(meta);
  if (!cached) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error(dir.string() + ": cannot create corpus cache directory (" + ec.message() + ")");
    ByteTokenizer tok;
    std::vector<uint8_t> train, val;
    split_train_val(bytes, rule, train, val);
    if (val.empty())
      throw io::InputError(source, 0, "", "corpus of " + std::to_string(text.size()) +
                                              " bytes gives an empty validation split (needs more than " +
                                              std::to_string(rule.chunk_bytes * (rule.val_every - 1)) + " bytes)");
    write_token_file((dir / "train.tok").string(), train, hash);
    write_token_file((dir / "val.tok").string(), val, hash);
    nlohmann::json j = {{"source", source == kDefaultCorpus ? source : fs::absolute(source).string()},
                        {"tokenizer", "byte"},
                        {"vocab_size", tok.vocab_size()},
                        {"source_bytes", text.size()},
                        {"train_tokens", train.size()},
                        {"val_tokens", val.size()},
                        {"split", {{"chunk_bytes", rule.chunk_bytes}, {"val_every", rule.val_every},
                                   {"rule", "chunk i is validation when i % val_every == val_every - 1"}}},
                        {"content_hash", key}};
    io::write_file_atomic(meta.string(), j.dump(2) + "\n");
  }
  Corpus c(TokenFile::open((dir / "train.tok").string()), TokenFile::open((dir / "val.tok").string()));
  if (c.train_.content_hash() != hash || c.val_.content_hash() != hash)
    throw io::InputError(dir.string(), 0, "", "corpus cache entry does not match its name; delete the directory");
  c.dir_ = dir.string();
  c.source_bytes_ = text.size();
  c.was_cached_ = cached;
  return c;
}

}  // namespace scalinglab::data
