#pragma once
// Training logs as they exist in the wild, read incrementally (a file that is still growing):
//   log      llm.c stdout (`step 10/100: train loss …`, `step 10: train loss … (took … ms)`,
//            `step 10/100 | loss …`, `val loss …`), llm.c's main.log (`s:10 trl:4.2`, `s:10 tel:4.1`)
//            and nanoGPT stdout (`iter 10: loss …, time …`, `step 10: train loss …, val loss …`);
//   csv/tsv  a header row then one row per logged step;
//   jsonl    one JSON object per line (scalinglab's metrics.jsonl, W&B history rows, …);
//   wandb    a W&B CSV export (`Step`, `<run> - train/loss`, `… __MIN`, `… __MAX`);
//   tfevents TensorBoard event files (monitor/tfevents.h).
// Every parser turns complete lines/records into LogRecords and keeps a partial tail for later;
// bad input throws io::InputError naming the file and line (or record and byte offset).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scalinglab::monitor {

enum class LogFormat { kAuto, kLog, kCsv, kTsv, kJsonl, kWandb, kTfevents };
const char* format_name(LogFormat f);
// "auto", "log", "csv", "tsv", "jsonl", "wandb", "tfevents"; throws std::invalid_argument.
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
  std::string col_step, col_tokens, col_loss;  // column / key / tag names; empty: the usual aliases
};

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
};

std::unique_ptr<LogParser> make_parser(LogFormat format, const std::string& source, const ParseOptions& options);

// The format of a file from its first bytes (and name); kAuto while `head` is too short to tell
// and `complete` is false.
LogFormat detect_format(std::string_view head, const std::string& path, bool complete);

// The usual names of each quantity (case-insensitive), in order of preference.
const std::vector<std::string>& step_aliases();
const std::vector<std::string>& tokens_aliases();
const std::vector<std::string>& train_loss_aliases();
const std::vector<std::string>& eval_loss_aliases();

// A log file read as it grows: poll() returns the records completed since the last call.
class LogReader {
 public:
  LogReader(std::string path, ParseOptions options);
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Reads what was appended. A missing file throws io::InputError unless `wait_for_file`.
  // `grew` tells whether any byte was read. A file that shrank throws io::InputError.
  std::vector<LogRecord> poll(bool wait_for_file, bool* grew = nullptr);
  // End of input: the trailing partial line/record (see LogParser::finish); warnings appended.
  std::vector<LogRecord> finish(std::vector<std::string>& warnings);
  LogFormat format() const { return format_; }
  std::string available() const { return parser_ ? parser_->available() : ""; }
  const std::string& path() const { return path_; }

 private:
  void start_parser(bool complete, std::vector<LogRecord>& out);
  std::string path_;
  ParseOptions options_;
  LogFormat format_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::string head_;  // bytes read before the format was known
  std::unique_ptr<LogParser> parser_;
};

}  // namespace scalinglab::monitor
