#pragma once
// Internal to the log readers (log_reader.cpp and the *_parser.cpp files): text helpers, the
// column/key resolution shared by the table, JSONL, trainer-state and tfevents parsers, the
// line-splitting base class, and one factory per parser. Not part of the public contract.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scalinglab/io/input_error.h"
#include "scalinglab/monitor/log_reader.h"

namespace scalinglab::monitor::detail {

bool iequals(std::string_view a, std::string_view b);
bool starts_with(std::string_view s, std::string_view p);
std::string_view trim(std::string_view s);
// A whole token as a double: "4.25", "nan", "-inf", "1e-3". Thousands separators are not numbers.
bool parse_double(std::string_view tok, double& v);
// 'text' quoted and shortened to 40 bytes, for messages.
std::string show(std::string_view s);
std::string join(const std::vector<std::string>& v, size_t max = 12);
// One CSV/TSV line split into fields (RFC 4180 quoting within the line).
std::vector<std::string> split_fields(std::string_view line, char sep);
// W&B export columns: "<run> - <metric>" → "<metric>"; "__MIN"/"__MAX" are the band columns.
std::string wandb_metric(const std::string& column);
bool wandb_minmax(const std::string& column);

// Whether `name` is one of `names` (case-insensitive; an entry ending in '*' matches by prefix).
bool name_matches(std::string_view name, const std::string& alias);
bool name_in(std::string_view name, const std::vector<std::string>& names);

// The names to look for, in order, for each quantity.
struct Columns {
  std::vector<std::string> step, tokens, train, eval, lr, total_steps;
  bool user_loss = false;  // train/eval is the one --col-loss name
};
Columns columns_for(const ParseOptions& o);

// A number in a JSON object under the first of `names` present (exact key first, then
// case-insensitively; '*' aliases by prefix): null leaves `dst` unset; a string holding a number
// ("NaN", "Infinity") is read; anything else throws io::InputError naming the source and line.
void json_number(const nlohmann::json& obj, const std::vector<std::string>& names, std::optional<double>& dst,
                 const std::string& source, long line);
// The step, tokens, losses and lr of one JSON object (a JSONL line, a log_history entry) under
// the column names; `line` is the record's line.
LogRecord json_record(const nlohmann::json& obj, const Columns& cols, const std::string& source, long line);

// Line-oriented parsers share the splitting and the end-of-input rule.
class LineParser : public LogParser {
 public:
  LineParser(std::string source, bool partial_last_line_is_data)
      : source_(std::move(source)), partial_is_data_(partial_last_line_is_data) {}
  void feed(std::string_view bytes, std::vector<LogRecord>& out) override;
  std::optional<std::string> finish(std::vector<LogRecord>& out) override;

 protected:
  virtual void parse_line(std::string_view line, long line_no, std::vector<LogRecord>& out) = 0;
  io::InputError error(long line, const std::string& field, const std::string& what) const {
    return io::InputError(source_, line, field, what);
  }
  std::string source_;

 private:
  bool partial_is_data_;
  std::string buf_;
  long line_no_ = 0;
};

// Reasons lines are ignored (IgnoredLines), shared so that the summary can group them.
inline constexpr std::string_view kBlankLine = "blank line";
inline constexpr std::string_view kNoLoss = "no loss on the line";
inline constexpr std::string_view kNoLossInRow = "no loss or lr in the row";
inline constexpr std::string_view kNoLossInRecord = "no loss or lr in the record";
inline constexpr std::string_view kPrelude = "script source (before the ==== line)";
inline constexpr std::string_view kTemplate = "a format template, not values";
inline constexpr std::string_view kCutLine = "the last line, cut (no newline)";

std::unique_ptr<LogParser> make_text_log_parser(const std::string& source);
std::unique_ptr<LogParser> make_table_parser(const std::string& source, char sep, bool wandb, const ParseOptions& o);
std::unique_ptr<LogParser> make_jsonl_parser(const std::string& source, const ParseOptions& o);
std::unique_ptr<LogParser> make_trainer_state_parser(const std::string& source, const ParseOptions& o);
std::unique_ptr<LogParser> make_tfevents_parser(const std::string& source, const ParseOptions& o);

}  // namespace scalinglab::monitor::detail
