// Hugging Face Trainer's trainer_state.json: one JSON document (pretty-printed over many lines),
// written whole at each checkpoint save. Its `log_history` holds one entry per logging step
// ({"loss", "learning_rate", "grad_norm", "epoch", "step"}), per evaluation ({"eval_loss",
// "eval_runtime", …, "step"}) and a final summary ({"train_runtime", "train_loss" (the run's mean
// train loss), "total_flos", …}), which is not a train point. `max_steps` is the planned steps.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "scalinglab/monitor/log_parsing.h"

namespace scalinglab::monitor::detail {
namespace {

constexpr std::string_view kSummary = "the final summary entry (train_runtime; its train_loss is the run's mean)";
constexpr std::string_view kNoLossInEntry = "no loss or lr in the log_history entry";
constexpr const char* kTrailing =
    "data after the end of the JSON document (trainer_state.json is one document; for one JSON object per line use "
    "--format jsonl)";

// The line of each object directly inside the top-level "log_history" array (a scan of the
// text: nlohmann::json keeps no positions). Empty when the layout is not that.
std::vector<long> entry_lines(std::string_view s) {
  std::vector<long> lines;
  long line = 1;
  int depth = 0, array_depth = -1, key = 0;  // key: 1 after "log_history" at depth 1, 2 after its ':'
  bool in_str = false, esc = false, done = false;
  size_t str_start = 0;
  for (size_t i = 0; i < s.size() && !done; ++i) {
    char c = s[i];
    if (c == '\n') ++line;
    if (in_str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') {
        in_str = false;
        key = depth == 1 && s.substr(str_start, i - str_start) == "log_history" ? 1 : 0;
      }
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == ':' && key == 1) {
      key = 2;
      continue;
    }
    switch (c) {
      case '"':
        in_str = true;
        str_start = i + 1;
        break;
      case '[':
        if (key == 2 && depth == 1) array_depth = depth + 1;
        ++depth;
        break;
      case '{':
        if (depth == array_depth) lines.push_back(line);
        ++depth;
        break;
      case ']':
      case '}':
        --depth;
        if (array_depth > 0 && depth < array_depth) done = true;
        break;
      default: break;
    }
    if (c != '"') key = 0;
  }
  return lines;
}

class TrainerStateParser final : public LogParser {
 public:
  TrainerStateParser(std::string source, const ParseOptions& o) : source_(std::move(source)), cols_(columns_for(o)) {}

  void feed(std::string_view bytes, std::vector<LogRecord>& out) override {
    if (done_) {
      // Only whitespace may follow the document (LogReader rereads a rewritten file from its start).
      size_t k = bytes.find_first_not_of(" \t\r\n");
      if (k != std::string_view::npos)
        throw io::InputError(source_, lines_ + 1 + count_lines(bytes.substr(0, k)), "", kTrailing);
      lines_ += count_lines(bytes);
      return;
    }
    buf_.append(bytes);
    std::string_view t = trim(buf_);
    if (!t.empty() && t.back() == '}') parse(out);
  }

  std::optional<std::string> finish(std::vector<LogRecord>& out) override {
    if (done_ || trim(buf_).empty()) return std::nullopt;
    if (parse(out)) return std::nullopt;
    const long n = count_lines(buf_) + (buf_.back() == '\n' ? 0 : 1);
    std::string_view first = trim(buf_);
    ignore("the JSON document, cut before its end", 1, first.substr(0, first.find('\n')), n);
    std::string w = source_ + ":" + std::to_string(n) + ": the JSON document ends before it is complete (cut mid-write?); its " +
                    std::to_string(n) + " lines ignored";
    buf_.clear();
    return w;
  }

  std::string available() const override {
    return "log_history keys: " + join(std::vector<std::string>(keys_.begin(), keys_.end()), 20);
  }
  bool document_complete() const override { return done_; }

 private:
  static long count_lines(std::string_view s) { return static_cast<long>(std::count(s.begin(), s.end(), '\n')); }
  long line_at(size_t byte) const { return 1 + count_lines(std::string_view(buf_).substr(0, std::min(byte, buf_.size()))); }

  // Parses the buffer as the whole document; false when it ends early (wait for more bytes).
  bool parse(std::vector<LogRecord>& out) {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(buf_);
    } catch (const nlohmann::json::parse_error& e) {
      if (e.byte > buf_.size()) return false;  // the input ended inside the document
      std::string what = e.what();
      const long line = line_at(e.byte > 0 ? e.byte - 1 : 0);
      if (what.find("expected end of input") != std::string::npos) throw io::InputError(source_, line, "", kTrailing);
      size_t p = what.find(": syntax error");
      throw io::InputError(source_, line, "", "not valid JSON (" + (p == std::string::npos ? what : what.substr(p + 2)) + ")");
    }
    if (!doc.is_object()) throw io::InputError(source_, 1, "", "expected a JSON object (Hugging Face trainer_state.json)");
    auto lh = doc.find("log_history");
    if (lh == doc.end() || !lh->is_array())
      throw io::InputError(source_, 1, "", "no \"log_history\" array: not a Hugging Face trainer_state.json "
                                           "(for one JSON object per line use --format jsonl)");
    std::optional<double> total;
    json_number(doc, {"max_steps"}, total, source_, 1);
    if (total && !(*total > 0)) total.reset();
    std::vector<long> lines = entry_lines(buf_);
    if (lines.size() != lh->size()) lines.assign(lh->size(), line_at(buf_.find("\"log_history\"")));
    for (size_t k = 0; k < lh->size(); ++k) {
      const nlohmann::json& e = (*lh)[k];
      const long line = lines[k];
      if (!e.is_object()) throw io::InputError(source_, line, "", "expected an object in log_history, got " + show(e.dump()));
      for (auto it = e.begin(); it != e.end() && keys_.size() < 200; ++it) keys_.insert(it.key());
      if (e.contains("train_runtime") || e.contains("total_flos")) {
        ignore(kSummary, line, e.dump());
        continue;
      }
      LogRecord r = json_record(e, cols_, source_, line);
      r.total_steps = total;
      if (r.train_loss || r.eval_loss || r.lr) out.push_back(r);
      else ignore(kNoLossInEntry, line, e.dump());
    }
    lines_ = count_lines(buf_);
    done_ = true;
    buf_.clear();
    buf_.shrink_to_fit();
    return true;
  }

  std::string source_;
  Columns cols_;
  std::string buf_;
  bool done_ = false;
  long lines_ = 0;  // newlines in the document, once parsed
  std::set<std::string> keys_;
};

}  // namespace

std::unique_ptr<LogParser> make_trainer_state_parser(const std::string& source, const ParseOptions& o) {
  return std::make_unique<TrainerStateParser>(source, o);
}

}  // namespace scalinglab::monitor::detail
