#pragma once
// Training logs as they exist in the wild, read incrementally (a file that is still growing):
//   log      llm.c stdout (`step 10/100: train loss …`, `step 10: train loss … (took … ms)`,
//            `step 10/100 | loss … | lr …`, `val loss …`, its `| total batch size | N |` table),
//            llm.c's main.log (`s:10 trl:4.2 lr:…`, `s:10 tel:4.1`), nanoGPT stdout (`iter 10:
//            loss …, time …` = train, `step 10: train loss …, val loss …` = an eval estimate) and
//            modded-nanogpt record files (the script's source, a `====` line, nvidia-smi, then
//            `step:125/1393 val_loss:4.39 …`, `step:1/3000 train_loss:10.9 …`);
//   csv/tsv  a header row then one row per logged step (Lightning's CSVLogger metrics.csv too);
//   jsonl    one JSON object per line (scalinglab's metrics.jsonl, W&B history rows, …);
//   trainer-state  Hugging Face's trainer_state.json: one JSON document, its `log_history`;
//   wandb    a W&B CSV export (`Step`, `<run> - train/loss`, `… __MIN`, `… __MAX`);
//   tfevents TensorBoard event files (monitor/tfevents.h).
// Every parser turns complete lines/records into LogRecords, in file order (a restarted run's
// steps going back are delivered as they come), and keeps a partial tail for later; bad input
// throws io::InputError naming the file and line (or record and byte offset). Lines that carry
// nothing used are counted by reason (LogParser::ignored).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scalinglab::monitor {

enum class LogFormat { kAuto, kLog, kCsv, kTsv, kJsonl, kWandb, kTfevents, kTrainerState };
const char* format_name(LogFormat f);
// "auto", "log", "csv", "tsv", "jsonl", "wandb", "tfevents", "trainer-state"; throws
// std::invalid_argument.
LogFormat parse_format(const std::string& name);

enum class Metric { kAuto, kTrain, kEval };
const char* metric_name(Metric m);

struct LogRecord {
  long line = 0;        // 1-based line (text formats) or record number (tfevents)
  int64_t offset = -1;  // tfevents: byte offset of the record
  std::optional<double> step, tokens, train_loss, eval_loss;
  std::optional<double> tokens_per_step;  // announced by the log itself (nanoGPT, llm.c headers)
  std::optional<double> lr;               // the learning rate at this step, where the log states it
  std::optional<double> total_steps;      // the run's planned steps, where the log states it ("step k/N", max_steps)
};

struct ParseOptions {
  LogFormat format = LogFormat::kAuto;
  Metric metric = Metric::kAuto;  // only decides which kind an explicit col_loss fills
  // Column / key / tag names; empty: the usual aliases. With metric kAuto, col_loss fills the eval
  // series when its name looks like an evaluation (looks_like_eval_name), else the train series.
  std::string col_step, col_tokens, col_loss;
};

// Lines (records, entries) a parser did not use, for one reason.
struct IgnoredLines {
  long count = 0;
  long first_line = 0;        // line (record number for tfevents) of the first one
  std::string first_example;  // its text, shortened to 60 bytes
};
// By reason, e.g. "no loss on the line" (config prints, messages), "script source (before the
// ==== line)" (modded-nanogpt), "a format template, not values", "blank line".
using IgnoredByReason = std::map<std::string, IgnoredLines, std::less<>>;

class LogParser {
 public:
  virtual ~LogParser() = default;
  // Parses every complete line/record of `bytes` (appended to what came before).
  virtual void feed(std::string_view bytes, std::vector<LogRecord>& out) = 0;
  // The input has ended. A trailing partial line or record is parsed when it can be (CSV, TSV,
  // JSONL and W&B files may lack their final newline) or else ignored; the returned text then
  // says what was ignored and where.
  virtual std::optional<std::string> finish(std::vector<LogRecord>& out) = 0;
  // What the input offered, for the "no loss found" message (columns, keys or tags).
  virtual std::string available() const { return ""; }
  // A whole document that its writer rewrites in place (trainer_state.json): once it is complete,
  // any change to the file is a new version of it, to be read again from the start.
  virtual bool document_complete() const { return false; }
  // The lines seen so far that produced no record, by reason.
  const IgnoredByReason& ignored() const { return ignored_; }

 protected:
  // Counts `count` unused lines from `line` on; allocates only the first time a reason is seen.
  void ignore(std::string_view reason, long line, std::string_view text, long count = 1);

 private:
  IgnoredByReason ignored_;
};

std::unique_ptr<LogParser> make_parser(LogFormat format, const std::string& source, const ParseOptions& options);

// The format of a file from its first bytes (and name); kAuto while `head` is too short to tell
// and `complete` is false. The first non-empty line tells a table (CSV/TSV/W&B header with a
// known name, or one of `options`' column names) or JSON (a one-line object: jsonl; a document
// spread over lines or holding `log_history`: trainer-state); anything else is a text log, whose
// parser recognises each kind of line wherever it appears.
LogFormat detect_format(std::string_view head, const std::string& path, bool complete,
                        const ParseOptions* options = nullptr);

// The usual names of each quantity (case-insensitive), in order of preference.
const std::vector<std::string>& step_aliases();
const std::vector<std::string>& tokens_aliases();
const std::vector<std::string>& train_loss_aliases();
const std::vector<std::string>& eval_loss_aliases();
// lr, learning_rate, train/lr, …; "lr-*" (Lightning's LearningRateMonitor: lr-AdamW, lr-SGD/pg1)
// matches any name with that prefix. Several matching columns are not ambiguous: the first is used.
const std::vector<std::string>& lr_aliases();
// Whether a metric name names an evaluation: a word part (split at non-alphanumerics and at
// camelCase humps, after a W&B "<run> - " prefix) is val, valid, validation, eval, evaluation,
// test, testing or heldout. "val_loss", "eval/loss", "valLoss" yes; "train/loss", "interval_loss" no.
bool looks_like_eval_name(std::string_view name);

// A log file read as it grows: poll() returns the records completed since the last call.
class LogReader {
 public:
  LogReader(std::string path, ParseOptions options);
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Reads what was appended. A missing file throws io::InputError unless `wait_for_file`.
  // `grew` tells whether any byte was read. A text file rewritten (it shrank, its first bytes
  // changed, it was replaced by another file at the path, or a complete trainer_state.json
  // changed) is read again from its start, and only the records after the longest common prefix
  // with those already returned are returned: Hugging Face rewrites trainer_state.json at each
  // save, Lightning metrics.csv when a metric appears, scalinglab replaces metrics.jsonl when a
  // run resumes. A tfevents file that shrank or was replaced throws io::InputError.
  std::vector<LogRecord> poll(bool wait_for_file, bool* grew = nullptr);
  // End of input: the trailing partial line/record (see LogParser::finish); warnings appended.
  std::vector<LogRecord> finish(std::vector<std::string>& warnings);
  // A finished file at once: poll(false), then finish(warnings).
  std::vector<LogRecord> read_all(std::vector<std::string>& warnings);
  LogFormat format() const { return format_; }
  std::string available() const { return parser_ ? parser_->available() : ""; }
  // The lines of the file (as last read) that gave no record, by reason.
  const IgnoredByReason& ignored() const;
  // How many times the file was found rewritten and read again (follow mode).
  int rereads() const { return rereads_; }
  const std::string& path() const { return path_; }

 private:
  void start_parser(bool complete, std::vector<LogRecord>& out);
  void restart();
  void deliver(std::vector<LogRecord>& parsed, std::vector<LogRecord>& out);
  std::string path_;
  ParseOptions options_;
  LogFormat format_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::string head_;  // bytes read before the format was known
  std::unique_ptr<LogParser> parser_;
  // Rewrite detection: the first bytes read, the file's identity and last change time.
  std::string first_bytes_;
  uint64_t ino_ = 0, dev_ = 0;
  int64_t mtime_ns_ = -1;
  // A hash of each record returned (text formats), and after a reread how many of the new
  // parse's records matched them so far (skipped) and whether they still match.
  std::vector<uint64_t> delivered_;
  size_t replay_ = 0;
  bool replaying_ = false;
  int rereads_ = 0;
};

}  // namespace scalinglab::monitor
