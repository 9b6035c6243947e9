// The public side of the log readers: format names, the usual names of each quantity, format
// detection, the parser factory, and LogReader (a file read as it grows, or rewritten in place).
// The parsers themselves are in text_log_parser.cpp, table_parser.cpp, jsonl_parser.cpp,
// trainer_state_parser.cpp and tfevents_parser.cpp.
#include "scalinglab/monitor/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "scalinglab/io/input_error.h"
#include "scalinglab/monitor/log_parsing.h"
#include "scalinglab/monitor/tfevents.h"

namespace scalinglab::monitor {

using namespace detail;

namespace {
constexpr LogFormat kAllFormats[] = {LogFormat::kAuto,  LogFormat::kLog,   LogFormat::kCsv,      LogFormat::kTsv,
                                     LogFormat::kJsonl, LogFormat::kWandb, LogFormat::kTfevents, LogFormat::kTrainerState};
}  // namespace

const char* format_name(LogFormat f) {
  switch (f) {
    case LogFormat::kAuto: return "auto";
    case LogFormat::kLog: return "log";
    case LogFormat::kCsv: return "csv";
    case LogFormat::kTsv: return "tsv";
    case LogFormat::kJsonl: return "jsonl";
    case LogFormat::kWandb: return "wandb";
    case LogFormat::kTfevents: return "tfevents";
    case LogFormat::kTrainerState: return "trainer-state";
  }
  return "?";
}

LogFormat parse_format(const std::string& name) {
  std::string known;
  for (LogFormat f : kAllFormats) {
    if (name == format_name(f)) return f;
    known += std::string(known.empty() ? "" : ", ") + format_name(f);
  }
  throw std::invalid_argument("unknown log format '" + name + "' (known: " + known + ")");
}

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::kTrain: return "train";
    case Metric::kEval: return "eval";
    default: return "auto";
  }
}

const std::vector<std::string>& step_aliases() {
  static const std::vector<std::string> v = {"step", "_step", "iter", "iteration", "global_step", "trainer/global_step"};
  return v;
}
const std::vector<std::string>& tokens_aliases() {
  static const std::vector<std::string> v = {"tokens",       "tokens_seen",      "num_tokens", "consumed_tokens",
                                             "total_tokens", "train/tokens",     "tokens_processed",
                                             "num_input_tokens_seen", "D"};
  return v;
}
// Lightning's `self.log(..., on_step=True, on_epoch=True)` makes "<name>_step" and "<name>_epoch"
// columns: the per-step one is preferred, the epoch mean is the last resort.
const std::vector<std::string>& train_loss_aliases() {
  static const std::vector<std::string> v = {"train_loss",    "train_loss_step", "train/loss",    "loss",
                                             "loss_step",     "train/lm_loss",   "lm loss",       "loss/train",
                                             "training_loss", "training/loss",   "train/CrossEntropyLoss",
                                             "train/ce_loss", "train_loss_epoch", "loss_epoch"};
  return v;
}
const std::vector<std::string>& eval_loss_aliases() {
  static const std::vector<std::string> v = {"eval_loss",       "val_loss",        "val_loss_epoch", "val/loss",
                                             "eval/loss",       "valid_loss",      "valid/loss",     "validation_loss",
                                             "validation/loss", "loss/val",        "loss/validation", "val/lm_loss",
                                             "eval/CrossEntropyLoss", "test_loss", "test/loss"};
  return v;
}
const std::vector<std::string>& lr_aliases() {
  static const std::vector<std::string> v = {"lr", "learning_rate", "train/lr", "train/learning_rate", "optim/lr", "lr-*"};
  return v;
}

bool looks_like_eval_name(std::string_view name) {
  static const char* const kWords[] = {"val", "valid", "validation", "eval", "evaluation", "test", "testing", "heldout"};
  std::string metric = wandb_metric(std::string(name));
  auto lower = [](char c) { return std::islower(static_cast<unsigned char>(c)) != 0; };
  auto upper = [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; };
  auto alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  size_t i = 0;
  while (i < metric.size()) {
    while (i < metric.size() && !alpha(metric[i])) ++i;
    size_t j = i + 1;
    // A word: letters, split where a lowercase letter is followed by an uppercase one (valLoss).
    while (j < metric.size() && alpha(metric[j]) && !(lower(metric[j - 1]) && upper(metric[j]))) ++j;
    if (i < metric.size()) {
      std::string_view w(metric.data() + i, std::min(j, metric.size()) - i);
      for (const char* k : kWords)
        if (iequals(w, k)) return true;
    }
    i = j;
  }
  return false;
}

std::unique_ptr<LogParser> make_parser(LogFormat format, const std::string& source, const ParseOptions& options) {
  switch (format) {
    case LogFormat::kLog: return make_text_log_parser(source);
    case LogFormat::kCsv: return make_table_parser(source, ',', false, options);
    case LogFormat::kTsv: return make_table_parser(source, '\t', false, options);
    case LogFormat::kWandb: return make_table_parser(source, ',', true, options);
    case LogFormat::kJsonl: return make_jsonl_parser(source, options);
    case LogFormat::kTrainerState: return make_trainer_state_parser(source, options);
    case LogFormat::kTfevents: return make_tfevents_parser(source, options);
    default: throw std::invalid_argument("make_parser: the format must be known");
  }
}

namespace {

// A header row: every field a name (no ':', not empty), one of them a name the readers know.
struct HeaderLook {
  bool names = true, known = false, wandb = false;
};
HeaderLook look_at_header(const std::vector<std::string>& fields, const ParseOptions* o) {
  HeaderLook h;
  for (const auto& f : fields) {
    if (f.find(':') != std::string::npos || f.empty()) h.names = false;
    if (f.find(" - ") != std::string::npos || wandb_minmax(f)) h.wandb = true;
    std::string metric = wandb_metric(f);
    for (const auto* list : {&step_aliases(), &tokens_aliases(), &train_loss_aliases(), &eval_loss_aliases(), &lr_aliases()})
      if (name_in(f, *list) || name_in(metric, *list)) h.known = true;
    if (o)
      for (const std::string* n : {&o->col_step, &o->col_tokens, &o->col_loss})
        if (!n->empty() && (iequals(*n, f) || iequals(*n, metric))) h.known = true;
  }
  return h;
}

std::string_view file_name(std::string_view path) {
  size_t p = path.rfind('/');
  return p == std::string_view::npos ? path : path.substr(p + 1);
}

}  // namespace

LogFormat detect_format(std::string_view head, const std::string& path, bool complete, const ParseOptions* options) {
  if (looks_like_tfrecord(head)) return LogFormat::kTfevents;
  if (path.find("tfevents") != std::string::npos) return head.size() >= 12 || complete ? LogFormat::kTfevents : LogFormat::kAuto;
  // The first non-empty complete line tells a table or JSON; anything else is a text log (its
  // parser recognises each kind of line wherever it comes: a Python prelude is not a header).
  size_t start = 0;
  while (true) {
    size_t nl = head.find('\n', start);
    if (nl == std::string_view::npos) {
      if (!complete) return LogFormat::kAuto;
      nl = head.size();
    }
    std::string_view line = trim(head.substr(start, nl - start));
    if (!line.empty()) {
      if (line.front() == '{') {
        if (file_name(path) == "trainer_state.json") return LogFormat::kTrainerState;
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object()) return j.contains("log_history") ? LogFormat::kTrainerState : LogFormat::kJsonl;
        // Not an object on its own line: a document spread over lines, unless the line looks like
        // one whole object that is malformed (the JSONL parser then says where).
        return line.back() == '}' ? LogFormat::kJsonl : LogFormat::kTrainerState;
      }
      auto tabs = split_fields(line, '\t');
      if (tabs.size() >= 2) {
        HeaderLook h = look_at_header(tabs, options);
        if (h.names && h.known) return LogFormat::kTsv;
      }
      auto fields = split_fields(line, ',');
      if (fields.size() >= 2) {
        HeaderLook h = look_at_header(fields, options);
        if (h.names && h.wandb) return LogFormat::kWandb;
        if (h.names && h.known) return LogFormat::kCsv;
      }
      return LogFormat::kLog;
    }
    if (nl >= head.size()) return complete ? LogFormat::kLog : LogFormat::kAuto;
    start = nl + 1;
  }
}

// ---------------------------------------------------------------------------------------------
namespace {

constexpr size_t kFirstBytes = 256;  // compared at each poll to notice a file rewritten in place

// Text formats can be rewritten whole by their writer (Hugging Face's trainer_state.json at each
// save, Lightning's metrics.csv when a metric appears, scalinglab's metrics.jsonl replaced on
// resume, a log truncated by a rerun): they are read again from the start. TensorBoard writers
// only append (a new run writes a new file).
bool rewritable(LogFormat f) { return f != LogFormat::kTfevents && f != LogFormat::kAuto; }

// FNV-1a over what a record says (not where it is: a rewritten file may move lines).
uint64_t record_hash(const LogRecord& r) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const std::optional<double>& v) {
    unsigned char bytes[sizeof(double) + 1] = {static_cast<unsigned char>(v.has_value())};
    if (v) std::memcpy(bytes + 1, &*v, sizeof(double));
    for (unsigned char b : bytes) h = (h ^ b) * 1099511628211ull;
  };
  for (const auto* v : {&r.step, &r.tokens, &r.train_loss, &r.eval_loss, &r.tokens_per_step, &r.lr, &r.total_steps}) mix(*v);
  return h;
}

int64_t mtime_ns(const struct stat& st) { return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec; }

}  // namespace

LogReader::LogReader(std::string path, ParseOptions options)
    : path_(std::move(path)), options_(std::move(options)), format_(options_.format) {}

LogReader::~LogReader() {
  if (fd_ >= 0) ::close(fd_);
}

const IgnoredByReason& LogReader::ignored() const {
  static const IgnoredByReason none;
  return parser_ ? parser_->ignored() : none;
}

void LogReader::deliver(std::vector<LogRecord>& parsed, std::vector<LogRecord>& out) {
  if (!rewritable(format_)) {
    if (out.empty()) out = std::move(parsed);
    else out.insert(out.end(), parsed.begin(), parsed.end());
    parsed.clear();
    return;
  }
  for (auto& r : parsed) {
    uint64_t h = record_hash(r);
    if (replaying_) {
      if (replay_ < delivered_.size() && delivered_[replay_] == h) {
        ++replay_;  // returned before this reread
        continue;
      }
      replaying_ = false;  // the new version differs from here on
      delivered_.resize(replay_);
    }
    delivered_.push_back(h);
    out.push_back(std::move(r));
  }
  parsed.clear();
}

void LogReader::start_parser(bool complete, std::vector<LogRecord>& out) {
  if (format_ == LogFormat::kAuto) format_ = detect_format(head_, path_, complete, &options_);
  if (format_ == LogFormat::kAuto) return;
  parser_ = make_parser(format_, path_, options_);
  std::string h = std::move(head_);
  head_.clear();
  std::vector<LogRecord> parsed;
  parser_->feed(h, parsed);
  deliver(parsed, out);
}

void LogReader::restart() {
  ::lseek(fd_, 0, SEEK_SET);
  offset_ = 0;
  first_bytes_.clear();
  head_.clear();
  if (parser_) {
    parser_ = make_parser(format_, path_, options_);
    replay_ = 0;
    replaying_ = true;
  }
  ++rereads_;
}

std::vector<LogRecord> LogReader::poll(bool wait_for_file, bool* grew) {
  std::vector<LogRecord> out;
  if (grew) *grew = false;
  struct stat st;
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      if (wait_for_file && errno == ENOENT) return out;
      throw io::InputError(path_, 0, "", std::string("cannot open log (") + std::strerror(errno) + ")");
    }
    if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode))
      throw io::InputError(path_, 0, "", "is a directory; give the log file (e.g. its events.out.tfevents.* file)");
    ino_ = st.st_ino;
    dev_ = st.st_dev;
  }
  if (::fstat(fd_, &st) == 0) {
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    const int64_t mt = mtime_ns(st);
    std::string why;
    bool replaced = false;
    if (offset_ > 0) {
      struct stat now;
      if (::stat(path_.c_str(), &now) == 0 && (static_cast<uint64_t>(now.st_ino) != ino_ || static_cast<uint64_t>(now.st_dev) != dev_)) {
        why = "was replaced by another file";
        replaced = true;
      } else if (size < offset_) {
        why = "shrank from " + std::to_string(offset_) + " to " + std::to_string(size) + " bytes";
      } else if (mt != mtime_ns_ || size != offset_) {
        if (parser_ && parser_->document_complete()) {
          why = "changed after its whole document was read";
        } else if (!first_bytes_.empty()) {
          std::string now_first(first_bytes_.size(), '\0');
          ssize_t n = ::pread(fd_, now_first.data(), now_first.size(), 0);
          if (n != static_cast<ssize_t>(now_first.size()) || now_first != first_bytes_) why = "was rewritten (its first bytes changed)";
        }
      }
    }
    mtime_ns_ = mt;
    if (!why.empty()) {
      if (parser_ && !rewritable(format_))
        throw io::InputError(path_, 0, "", "the file " + why + " while being read (replaced or truncated; event files are only appended to)");
      if (replaced) {
        int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return out;  // between the writer's unlink and rename: next poll
        ::close(fd_);
        fd_ = fd;
        if (::fstat(fd_, &st) == 0) ino_ = st.st_ino, dev_ = st.st_dev, mtime_ns_ = mtime_ns(st);
      }
      restart();
    }
  }
  char buf[1 << 16];
  std::vector<LogRecord> parsed;
  while (true) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io::InputError(path_, 0, "", std::string("read failed (") + std::strerror(errno) + ")");
    }
    if (n == 0) break;
    if (first_bytes_.size() < kFirstBytes)
      first_bytes_.append(buf, std::min(static_cast<size_t>(n), kFirstBytes - first_bytes_.size()));
    offset_ += static_cast<uint64_t>(n);
    if (grew) *grew = true;
    if (parser_) {
      parser_->feed(std::string_view(buf, static_cast<size_t>(n)), parsed);
      deliver(parsed, out);
    } else {
      head_.append(buf, static_cast<size_t>(n));
      start_parser(false, out);
    }
  }
  return out;
}

std::vector<LogRecord> LogReader::read_all(std::vector<std::string>& warnings) {
  std::vector<LogRecord> out = poll(false);
  std::vector<LogRecord> tail = finish(warnings);
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

std::vector<LogRecord> LogReader::finish(std::vector<std::string>& warnings) {
  std::vector<LogRecord> out;
  if (!parser_) {
    if (fd_ < 0 || head_.empty()) return out;
    start_parser(true, out);
  }
  std::vector<LogRecord> parsed;
  if (auto w = parser_->finish(parsed)) warnings.push_back(*w);
  deliver(parsed, out);
  return out;
}

}  // namespace scalinglab::monitor
