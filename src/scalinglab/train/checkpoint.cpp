#include "scalinglab/train/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "scalinglab/io/atomic_file.h"

namespace scalinglab::train {

static_assert(std::endian::native == std::endian::little, "checkpoints are little-endian");

namespace {

constexpr char kMagic[8] = {'S', 'L', 'C', 'K', 'P', 'T', '\0', '\n'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64, kSectionHeaderBytes = 16, kTrailerBytes = 8;

constexpr uint32_t tag(const char (&s)[5]) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[0])) | static_cast<uint32_t>(static_cast<uint8_t>(s[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[2])) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(s[3])) << 24;
}
constexpr uint32_t kConf = tag("CONF"), kStat = tag("STAT"), kParm = tag("PARM"), kAdmm = tag("ADMM"),
                   kAdmv = tag("ADMV"), kSamp = tag("SAMP"), kRngs = tag("RNGS"),
                   kTens = tag("TENS");

std::string tag_name(uint32_t t) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((t >> (8 * i)) & 0xff);
  return s;
}

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t n_sections;
  uint64_t n_params;
  uint64_t file_size;
  uint8_t pad[kHeaderBytes - 32];
};
static_assert(sizeof(Header) == kHeaderBytes);

struct SectionHeader {
  uint32_t tag;
  uint32_t zero;
  uint64_t bytes;
};
static_assert(sizeof(SectionHeader) == kSectionHeaderBytes);

// zlib's crc32 takes a 32-bit length per call; feed large buffers in pieces.
uint32_t crc_update(uint32_t crc, const void* data, size_t n) {
  auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {
    uInt piece = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = static_cast<uint32_t>(::crc32(crc, p, piece));
    p += piece;
    n -= piece;
  }
  return crc;
}

class CrcWriter {
 public:
  explicit CrcWriter(io::AtomicFileWriter& w) : w_(w), crc_(static_cast<uint32_t>(::crc32(0, nullptr, 0))) {}
  void write(const void* data, size_t n) {
    w_.write(data, n);
    crc_ = crc_update(crc_, data, n);
  }
  uint32_t crc() const { return crc_; }

 private:
  io::AtomicFileWriter& w_;
  uint32_t crc_;
};

struct Section {
  uint32_t tag;
  const void* data;
  uint64_t bytes;
};

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  const uint64_t n = c.params.size();
  if (c.adam_m.size() != n || c.adam_v.size() != n)
    throw CheckpointError(path + ": AdamW moments have " + std::to_string(c.adam_m.size()) + "/" +
                          std::to_string(c.adam_v.size()) + " entries for " + std::to_string(n) + " parameters");
  uint64_t stat[4] = {c.step, c.tokens_seen, c.adam_step, 0};
  std::memcpy(&stat[3], &c.elapsed_s, 8);
  uint8_t samp[16];
  std::memcpy(samp, &c.sampler.seed, 8);
  std::memcpy(samp + 8, &c.sampler.batch_size, 4);
  std::memcpy(samp + 12, &c.sampler.ctx, 4);
  nlohmann::json tens = nlohmann::json::array();
  for (const auto& t : c.tensors)
    tens.push_back({{"name", t.name}, {"offset", t.offset}, {"size", t.size}, {"is_matrix", t.is_matrix}});
  const std::string tens_text = tens.dump();
  const Section sections[] = {
      {kConf, c.config_json.data(), c.config_json.size()},
      {kStat, stat, sizeof stat},
      {kParm, c.params.data(), n * sizeof(float)},
      {kAdmm, c.adam_m.data(), n * sizeof(float)},
      {kAdmv, c.adam_v.data(), n * sizeof(float)},
      {kSamp, samp, sizeof samp},
      {kRngs, c.rng_state.data(), c.rng_state.size()},
      {kTens, tens_text.data(), tens_text.size()},
  };
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kVersion;
  h.n_sections = static_cast<uint32_t>(std::size(sections));
  h.n_params = n;
  h.file_size = kHeaderBytes + kTrailerBytes;
  for (const auto& s : sections) h.file_size += kSectionHeaderBytes + s.bytes;

  io::AtomicFileWriter file(path);
  CrcWriter w(file);
  w.write(&h, sizeof h);
  for (const auto& s : sections) {
    SectionHeader sh{s.tag, 0, s.bytes};
    w.write(&sh, sizeof sh);
    w.write(s.data, s.bytes);
  }
  uint32_t trailer[2] = {w.crc(), 0};
  file.write(trailer, sizeof trailer);
  file.commit();
}

// Two passes over one open descriptor: the first checks size and checksum in 1 MiB pieces, the
// second reads sections straight into their vectors, so peak memory is one copy of the state
// rather than two. Both passes see the same bytes even if a new checkpoint is renamed over
// `path` meanwhile, because the open file keeps the old inode.
Checkpoint load_checkpoint(const std::string& path, std::optional<uint64_t> expected_params) {
  auto fail = [&](const std::string& what) -> CheckpointError { return CheckpointError(path + ": " + what); };
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw fail("cannot open checkpoint (" + std::string(std::strerror(errno)) + ")");
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  auto read = [&](void* dst, uint64_t n) {
    if (n && !in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n))) throw fail("read error");
  };

  char magic[sizeof kMagic] = {};
  read(magic, std::min<uint64_t>(size, sizeof magic));
  if (size < sizeof kMagic || std::memcmp(magic, kMagic, sizeof kMagic) != 0)
    throw fail(size < sizeof kMagic ? "checkpoint truncated (" + std::to_string(size) + " bytes)"
                                    : "not a scalinglab checkpoint (bad magic)");
  if (size < kHeaderBytes + kTrailerBytes) throw fail("checkpoint truncated (" + std::to_string(size) + " bytes)");
  Header h;
  in.seekg(0);
  read(&h, sizeof h);
  if (h.version != kVersion)
    throw fail("checkpoint format version " + std::to_string(h.version) + " is not supported (this build reads " +
               std::to_string(kVersion) + ")");
  if (size < h.file_size)
    throw fail("checkpoint truncated (" + std::to_string(size) + " of " + std::to_string(h.file_size) + " bytes)");
  if (size > h.file_size)
    throw fail("checkpoint has " + std::to_string(size - h.file_size) + " unexpected trailing bytes");

  const uint64_t end = size - kTrailerBytes;
  {
    in.seekg(0);
    std::vector<char> piece(1 << 20);
    uint32_t crc = static_cast<uint32_t>(::crc32(0, nullptr, 0));
    for (uint64_t done = 0; done < end;) {
      uint64_t n = std::min<uint64_t>(piece.size(), end - done);
      read(piece.data(), n);
      crc = crc_update(crc, piece.data(), n);
      done += n;
    }
    uint32_t stored_crc;
    read(&stored_crc, 4);
    if (crc != stored_crc) throw fail("checkpoint checksum mismatch (file is corrupted)");
  }

  // The checksum passed, so a layout problem below means a writer bug or a hand-made file.
  const uint64_t n = h.n_params;
  if (expected_params && *expected_params != n)
    throw fail("checkpoint has " + std::to_string(n) + " parameters but the model has " +
               std::to_string(*expected_params) + " (different model config?)");
  Checkpoint c;
  std::map<uint32_t, std::string> small;  // every section but the three parameter-sized ones
  std::map<uint32_t, std::vector<float>*> big = {{kParm, &c.params}, {kAdmm, &c.adam_m}, {kAdmv, &c.adam_v}};
  std::map<uint32_t, bool> seen;
  in.seekg(kHeaderBytes);
  uint64_t pos = kHeaderBytes;
  for (uint32_t i = 0; i < h.n_sections; ++i) {
    if (end - pos < kSectionHeaderBytes) throw fail("section table runs past the end of the file");
    SectionHeader sh;
    read(&sh, sizeof sh);
    pos += kSectionHeaderBytes;
    if (sh.bytes > end - pos) throw fail("section " + tag_name(sh.tag) + " runs past the end of the file");
    if (auto it = big.find(sh.tag); it != big.end()) {
      if (sh.bytes != n * sizeof(float))
        throw fail("section " + tag_name(sh.tag) + " has " + std::to_string(sh.bytes) + " bytes, expected " +
                   std::to_string(n * sizeof(float)));
      it->second->resize(n);
      read(it->second->data(), sh.bytes);
    } else {
      std::string& dst = small[sh.tag];
      dst.resize(sh.bytes);
      read(dst.data(), sh.bytes);
    }
    seen[sh.tag] = true;
    pos += sh.bytes;
  }
  if (pos != end) throw fail("sections do not fill the file");
  for (uint32_t t : {kConf, kStat, kParm, kAdmm, kAdmv, kSamp, kRngs, kTens})
    if (!seen[t]) throw fail("missing section " + tag_name(t));
  auto fixed = [&](uint32_t t, uint64_t want) -> const char* {
    const std::string& b = small[t];
    if (b.size() != want)
      throw fail("section " + tag_name(t) + " has " + std::to_string(b.size()) + " bytes, expected " + std::to_string(want));
    return b.data();
  };

  c.config_json = std::move(small[kConf]);
  const char* stat = fixed(kStat, 32);
  std::memcpy(&c.step, stat, 8);
  std::memcpy(&c.tokens_seen, stat + 8, 8);
  std::memcpy(&c.adam_step, stat + 16, 8);
  std::memcpy(&c.elapsed_s, stat + 24, 8);
  const char* samp = fixed(kSamp, 16);
  std::memcpy(&c.sampler.seed, samp, 8);
  std::memcpy(&c.sampler.batch_size, samp + 8, 4);
  std::memcpy(&c.sampler.ctx, samp + 12, 4);
  c.rng_state.assign(small[kRngs].begin(), small[kRngs].end());
  auto j = nlohmann::json::parse(small[kTens], nullptr, false);
  if (j.is_discarded() || !j.is_array()) throw fail("section TENS is not a JSON array");
  try {
    for (const auto& t : j)
      c.tensors.push_back({t.at("name").get<std::string>(), t.at("offset").get<size_t>(), t.at("size").get<size_t>(),
                           t.at("is_matrix").get<bool>()});
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("section TENS: ") + e.what());
  }
  return c;
}

void verify_layout(const Checkpoint& c, const std::vector<ParamTensor>& model, const std::string& path) {
  auto describe = [](const ParamTensor& t) {
    return "'" + t.name + "' (offset " + std::to_string(t.offset) + ", size " + std::to_string(t.size) +
           (t.is_matrix ? ", matrix)" : ")");
  };
  for (size_t i = 0; i < std::max(c.tensors.size(), model.size()); ++i) {
    if (i >= c.tensors.size())
      throw CheckpointError(path + ": model tensor " + describe(model[i]) + " is not in the checkpoint");
    if (i >= model.size())
      throw CheckpointError(path + ": checkpoint tensor " + describe(c.tensors[i]) + " is not in the model");
    if (!(c.tensors[i] == model[i]))
      throw CheckpointError(path + ": tensor " + std::to_string(i) + " is " + describe(c.tensors[i]) +
                            " in the checkpoint but " + describe(model[i]) + " in the model");
  }
}

}  // namespace scalinglab::train
