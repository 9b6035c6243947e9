#include "scalinglab/monitor/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "scalinglab/io/input_error.h"
#include "scalinglab/io/table.h"
#include "scalinglab/monitor/protobuf_wire.h"
#include "scalinglab/monitor/tfevents.h"

namespace scalinglab::monitor {

const char* format_name(LogFormat f) {
  switch (f) {
    case LogFormat::kAuto: return "auto";
    case LogFormat::kLog: return "log";
    case LogFormat::kCsv: return "csv";
    case LogFormat::kTsv: return "tsv";
    case LogFormat::kJsonl: return "jsonl";
    case LogFormat::kWandb: return "wandb";
    case LogFormat::kTfevents: return "tfevents";
  }
  return "?";
}

LogFormat parse_format(const std::string& name) {
  for (LogFormat f : {LogFormat::kAuto, LogFormat::kLog, LogFormat::kCsv, LogFormat::kTsv, LogFormat::kJsonl,
                      LogFormat::kWandb, LogFormat::kTfevents})
    if (name == format_name(f)) return f;
  throw std::invalid_argument("unknown log format '" + name + "' (known: auto, log, csv, tsv, jsonl, wandb, tfevents)");
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
  static const std::vector<std::string> v = {"tokens", "tokens_seen", "num_tokens", "consumed_tokens", "total_tokens",
                                             "train/tokens", "tokens_processed", "D"};
  return v;
}
const std::vector<std::string>& train_loss_aliases() {
  static const std::vector<std::string> v = {"train_loss", "train/loss", "loss", "train/lm_loss", "lm loss",
                                             "loss/train", "training_loss", "training/loss", "train/CrossEntropyLoss",
                                             "train/ce_loss"};
  return v;
}
const std::vector<std::string>& eval_loss_aliases() {
  static const std::vector<std::string> v = {"eval_loss", "val_loss", "val/loss", "eval/loss", "valid_loss",
                                             "valid/loss", "validation_loss", "validation/loss", "loss/val",
                                             "loss/validation", "val/lm_loss", "eval/CrossEntropyLoss", "test_loss",
                                             "test/loss"};
  return v;
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A whole token as a double: "4.25", "nan", "-inf", "1e-3". Thousands separators are not numbers.
bool parse_double(std::string_view tok, double& v) {
  tok = trim(tok);
  if (tok.empty()) return false;
  if (tok.front() == '+') tok.remove_prefix(1);
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  return ec == std::errc() && p == tok.data() + tok.size();
}

std::string show(std::string_view s) {
  std::string t(s.substr(0, 40));
  return "'" + t + (s.size() > 40 ? "…" : "") + "'";
}

// ---------------------------------------------------------------------------------------------
// Line-oriented parsers share the splitting and the end-of-input rule.
class LineParser : public LogParser {
 public:
  LineParser(std::string source, bool partial_last_line_is_data)
      : source_(std::move(source)), partial_is_data_(partial_last_line_is_data) {}

  void feed(std::string_view bytes, std::vector<LogRecord>& out) override {
    buf_.append(bytes);
    size_t start = 0, nl;
    while ((nl = buf_.find('\n', start)) != std::string::npos) {
      std::string_view line(buf_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      parse_line(line, ++line_no_, out);
      start = nl + 1;
    }
    buf_.erase(0, start);
  }

  std::optional<std::string> finish(std::vector<LogRecord>& out) override {
    std::string rest = std::move(buf_);
    buf_.clear();
    if (trim(rest).empty()) return std::nullopt;
    const long line = ++line_no_;
    std::string where = source_ + ":" + std::to_string(line) + ": ";
    if (!partial_is_data_)
      return where + "the last line has no newline (the log was cut mid-line); ignored: " + show(trim(rest));
    std::vector<LogRecord> tmp;
    try {
      parse_line(rest, line, tmp);
    } catch (const io::InputError& e) {
      return std::string(e.what()) + " (the last line, which has no newline: cut mid-write?); ignored";
    }
    out.insert(out.end(), tmp.begin(), tmp.end());
    return std::nullopt;
  }

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

// ---------------------------------------------------------------------------------------------
// llm.c and nanoGPT stdout, llm.c main.log.
class TextLogParser : public LineParser {
 public:
  explicit TextLogParser(std::string source) : LineParser(std::move(source), false) {}

 protected:
  void parse_line(std::string_view raw, long line_no, std::vector<LogRecord>& out) override {
    std::string_view s = trim(raw);
    if (s.empty()) return;
    LogRecord r;
    r.line = line_no;
    // llm.c main.log (llmc/logger.h): "s:%d trl:%.4f lr:%.6f norm:%.2f", "s:%d tel:%.4f", "s:%d eval:%.4f".
    if (starts_with(s, "s:")) {
      bool any = false;
      for (std::string_view tok : split_ws(s)) {
        size_t c = tok.find(':');
        if (c == std::string_view::npos) continue;
        std::string_view key = tok.substr(0, c), val = tok.substr(c + 1);
        double v;
        if (key == "s" || key == "trl" || key == "tel") {
          if (!parse_double(val, v))
            throw error(line_no, "", "expected a number after '" + std::string(key) + ":', got " + show(val));
          if (key == "s") r.step = v;
          else if (key == "trl") r.train_loss = v, any = true;
          else r.eval_loss = v, any = true;
        }
      }
      if (any && r.step) out.push_back(r);
      return;
    }
    // nanoGPT: "tokens per iteration will be: 491,520"; llm.c: "total desired batch size: 524288".
    for (std::string_view key : {std::string_view("tokens per iteration will be:"), std::string_view("total desired batch size:")}) {
      if (starts_with(s, key)) {
        std::string digits;
        for (char ch : s.substr(key.size()))
          if (ch != ',' && ch != '_') digits += ch;
        double v;
        if (parse_double(digits, v) && v > 0) {
          r.tokens_per_step = v;
          out.push_back(r);
        }
        return;
      }
    }
    // llm.c: "val loss %f" on its own line, evaluated before the training step of its loop
    // iteration: after `last_step_` updates in train_gpt2.cu (which prints "step k/N" for the k-th
    // update), after last_step_ + 1 in train_gpt2.c (which prints "step k:" 0-based).
    if (starts_with(s, "val loss")) {
      r.eval_loss = number_after(s, 8, line_no, "val loss");
      r.step = !seen_step_ ? 0.0 : (slash_form_ ? last_step_ : last_step_ + 1);
      out.push_back(r);
      return;
    }
    bool is_step = starts_with(s, "step"), is_iter = starts_with(s, "iter");
    if (!is_step && !is_iter) return;
    size_t i = is_step ? 4 : 4;
    if (is_iter && starts_with(s, "iteration")) i = 9;
    if (i >= s.size() || !std::isspace(static_cast<unsigned char>(s[i]))) return;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j == i) return;
    double step = std::stod(std::string(s.substr(i, j - i)));
    bool slash = j < s.size() && s[j] == '/';
    if (slash) {
      ++j;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    }
    std::string_view rest = s.substr(j);
    std::string_view rt = trim(rest);
    if (rt.empty() || (rt.front() != ':' && rt.front() != '|')) return;
    r.step = step;
    if (auto p = find_key(rest, "train loss")) r.train_loss = number_after(rest, *p, line_no, "train loss");
    if (auto p = find_key(rest, "val loss")) r.eval_loss = number_after(rest, *p, line_no, "val loss");
    if (!r.train_loss) {
      // nanoGPT "iter 10: loss 4.2, time …"; llm.c "step 10/100 | loss 4.2 (+0.1z)| norm …".
      if (auto p = find_key(rest, "loss")) r.train_loss = number_after(rest, *p, line_no, "loss");
    }
    if (!r.train_loss && !r.eval_loss) return;
    if (is_step && r.train_loss && !r.eval_loss) {
      seen_step_ = true;
      slash_form_ = slash;
      last_step_ = step;
    }
    out.push_back(r);
  }

 private:
  static std::vector<std::string_view> split_ws(std::string_view s) {
    std::vector<std::string_view> v;
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j > i) v.push_back(s.substr(i, j - i));
      i = j;
    }
    return v;
  }
  // Position just past `key` when it appears as whole words (not inside "val_loss_ema").
  static std::optional<size_t> find_key(std::string_view s, std::string_view key) {
    size_t pos = 0;
    while ((pos = s.find(key, pos)) != std::string_view::npos) {
      bool left = pos == 0 || !std::isalnum(static_cast<unsigned char>(s[pos - 1]));
      size_t end = pos + key.size();
      bool right = end >= s.size() || std::isspace(static_cast<unsigned char>(s[end])) || s[end] == ':' || s[end] == '=';
      if (left && right) return end;
      pos = end;
    }
    return std::nullopt;
  }
  double number_after(std::string_view s, size_t pos, long line_no, const std::string& key) const {
    size_t i = pos;
    while (i < s.size() && (std::isspace(static_cast<unsigned char>(s[i])) || s[i] == ':' || s[i] == '=')) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != ',' && s[j] != '|' && s[j] != '(')
      ++j;
    std::string_view tok = s.substr(i, j - i);
    double v;
    if (!parse_double(tok, v))
      throw error(line_no, "", "expected a number after '" + key + "', got " + (tok.empty() ? std::string("nothing") : show(tok)));
    return v;
  }
  bool seen_step_ = false, slash_form_ = false;
  double last_step_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Column resolution shared by the table and JSONL parsers.
struct Columns {
  std::vector<std::string> step, tokens, train, eval;  // names to look for, in order
};

Columns columns_for(const ParseOptions& o) {
  Columns c;
  c.step = o.col_step.empty() ? step_aliases() : std::vector<std::string>{o.col_step};
  c.tokens = o.col_tokens.empty() ? tokens_aliases() : std::vector<std::string>{o.col_tokens};
  if (o.col_loss.empty()) {
    c.train = train_loss_aliases();
    c.eval = eval_loss_aliases();
  } else if (o.metric == Metric::kTrain) {
    c.train = {o.col_loss};
  } else {
    c.eval = {o.col_loss};
  }
  return c;
}

std::string join(const std::vector<std::string>& v, size_t max = 12) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max) s += ", … (" + std::to_string(v.size()) + " in all)";
  return s;
}

// Splits one CSV/TSV line (RFC 4180 quoting within the line).
std::vector<std::string> split_fields(std::string_view line, char sep) {
  std::vector<std::string> f(1);
  bool q = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (q) {
      if (ch == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') f.back() += '"', ++i;
        else q = false;
      } else {
        f.back() += ch;
      }
    } else if (ch == '"') {
      q = true;
    } else if (ch == sep) {
      f.emplace_back();
    } else {
      f.back() += ch;
    }
  }
  for (auto& x : f) x = std::string(trim(x));
  return f;
}

// W&B CSV exports name columns "<run name> - <metric>" and add "<…>__MIN"/"<…>__MAX" columns
// when the history was sampled; the metric is the part after the last " - ".
std::string wandb_metric(const std::string& column) {
  size_t p = column.rfind(" - ");
  return p == std::string::npos ? column : column.substr(p + 3);
}
bool wandb_minmax(const std::string& column) {
  auto ends = [&](const char* s) { return column.size() >= std::strlen(s) && column.compare(column.size() - std::strlen(s), std::strlen(s), s) == 0; };
  return ends("__MIN") || ends("__MAX");
}

class TableParser : public LineParser {
 public:
  TableParser(std::string source, char sep, bool wandb, const ParseOptions& o)
      : LineParser(std::move(source), true), sep_(sep), wandb_(wandb), options_(o), cols_(columns_for(o)) {}

  std::string available() const override { return "columns: " + join(header_); }

 protected:
  void parse_line(std::string_view line, long line_no, std::vector<LogRecord>& out) override {
    if (trim(line).empty()) return;
    if (header_.empty()) {
      header_ = split_fields(line, sep_);
      resolve(line_no);
      return;
    }
    auto f = split_fields(line, sep_);
    LogRecord r;
    r.line = line_no;
    auto cell = [&](std::optional<size_t> col, std::optional<double>& dst) {
      if (!col) return;
      if (*col >= f.size())
        throw error(line_no, header_[*col], "missing: the row has " + std::to_string(f.size()) + " fields, the header " +
                                                std::to_string(header_.size()));
      const std::string& t = f[*col];
      if (t.empty()) return;
      double v;
      if (!parse_double(t, v)) throw error(line_no, header_[*col], "expected a number, got " + show(t));
      dst = v;
    };
    cell(step_, r.step);
    cell(tokens_, r.tokens);
    cell(train_, r.train_loss);
    cell(eval_, r.eval_loss);
    if (r.train_loss || r.eval_loss) out.push_back(r);
  }

 private:
  std::string match_name(size_t i) const { return wandb_ ? wandb_metric(header_[i]) : header_[i]; }

  // The column for a list of names: exact name first (a user-given name may be the full W&B
  // column), then the metric part; several runs' columns matching one name is ambiguous.
  std::optional<size_t> find(const std::vector<std::string>& names, const char* what, bool user_given, long line_no) {
    for (const auto& name : names) {
      std::vector<size_t> hits;
      for (size_t i = 0; i < header_.size(); ++i)
        if (!wandb_minmax(header_[i]) && (iequals(header_[i], name) || iequals(match_name(i), name))) hits.push_back(i);
      if (hits.size() > 1) {
        std::vector<std::string> names_hit;
        for (size_t i : hits) names_hit.push_back("'" + header_[i] + "'");
        throw error(line_no, "", std::string("several columns hold the ") + what + " (" + join(names_hit) +
                                     "); choose one with --col-" + (std::string(what) == "loss" ? "loss" : what) +
                                     " and its full name");
      }
      if (hits.size() == 1) return hits[0];
    }
    if (user_given) {
      auto close = io::closest_name(names[0], header_);
      throw error(line_no, "", "no column '" + names[0] + "'" + (close ? " (did you mean '" + *close + "'?)" : "") +
                                   "; columns: " + join(header_));
    }
    return std::nullopt;
  }

  void resolve(long line_no) {
    step_ = find(cols_.step, "step", !options_.col_step.empty(), line_no);
    tokens_ = find(cols_.tokens, "tokens", !options_.col_tokens.empty(), line_no);
    if (!cols_.train.empty()) train_ = find(cols_.train, "loss", !options_.col_loss.empty(), line_no);
    if (!cols_.eval.empty()) eval_ = find(cols_.eval, "loss", !options_.col_loss.empty(), line_no);
    if (!train_ && !eval_)
      throw error(line_no, "", "no loss column: expected one of " + join(eval_loss_aliases(), 4) + ", " +
                                   join(train_loss_aliases(), 4) + " (or --col-loss NAME); columns: " + join(header_));
    if (!step_ && !tokens_)
      throw error(line_no, "", "no step or tokens column: expected one of " + join(step_aliases(), 4) + ", " +
                                   join(tokens_aliases(), 4) + " (or --col-step/--col-tokens); columns: " + join(header_));
  }

  char sep_;
  bool wandb_;
  ParseOptions options_;
  Columns cols_;
  std::vector<std::string> header_;
  std::optional<size_t> step_, tokens_, train_, eval_;
};

// ---------------------------------------------------------------------------------------------
class JsonlParser : public LineParser {
 public:
  JsonlParser(std::string source, const ParseOptions& o) : LineParser(std::move(source), true), cols_(columns_for(o)) {}
  std::string available() const override {
    return "keys: " + join(std::vector<std::string>(keys_.begin(), keys_.end()), 20);
  }

 protected:
  void parse_line(std::string_view line, long line_no, std::vector<LogRecord>& out) override {
    if (trim(line).empty()) return;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) throw error(line_no, "", "not valid JSON");
    if (!j.is_object()) throw error(line_no, "", "expected a JSON object per line");
    for (auto it = j.begin(); it != j.end(); ++it)
      if (keys_.size() < 200) keys_.insert(it.key());
    LogRecord r;
    r.line = line_no;
    auto get = [&](const std::vector<std::string>& names, std::optional<double>& dst) {
      for (const auto& name : names) {
        const nlohmann::json* v = nullptr;
        if (j.contains(name)) v = &j[name];
        else
          for (auto it = j.begin(); it != j.end() && !v; ++it)
            if (iequals(it.key(), name)) v = &it.value();
        if (!v) continue;
        if (v->is_null()) return;  // present, not logged at this step (JSON has no NaN: writers use null)
        if (v->is_number()) {
          dst = v->get<double>();
          return;
        }
        double d;
        if (v->is_string() && parse_double(v->get<std::string>(), d)) {  // "NaN", "Infinity" as strings
          dst = d;
          return;
        }
        throw io::InputError(source_, line_no, name, "expected a number, got " + show(v->dump()));
      }
    };
    get(cols_.step, r.step);
    get(cols_.tokens, r.tokens);
    get(cols_.train, r.train_loss);
    get(cols_.eval, r.eval_loss);
    if (r.train_loss || r.eval_loss) out.push_back(r);
  }

 private:
  Columns cols_;
  std::set<std::string> keys_;
};

// ---------------------------------------------------------------------------------------------
class TfeventsParser : public LogParser {
 public:
  TfeventsParser(std::string source, const ParseOptions& o) : source_(source), reader_(source), cols_(columns_for(o)) {}

  void feed(std::string_view bytes, std::vector<LogRecord>& out) override {
    reader_.feed(bytes);
    TfRecord rec;
    std::vector<ScalarEvent> events;
    while (reader_.next(rec)) {
      events.clear();
      try {
        decode_event(rec.data, events);
      } catch (const WireError& e) {
        throw io::InputError(source_, 0, "", "record " + std::to_string(rec.index) + " at byte offset " +
                                                 std::to_string(rec.offset) + ": malformed Event protobuf: " + e.what());
      }
      for (const auto& e : events) {
        if (tags_.size() < 200) tags_.insert(e.tag);
        LogRecord r;
        r.line = rec.index;
        r.offset = static_cast<int64_t>(rec.offset);
        r.step = static_cast<double>(e.step);
        if (matches(cols_.eval, e.tag)) r.eval_loss = e.value;
        else if (matches(cols_.train, e.tag)) r.train_loss = e.value;
        else continue;
        out.push_back(r);
      }
    }
  }
  std::optional<std::string> finish(std::vector<LogRecord>&) override {
    if (reader_.pending() == 0) return std::nullopt;
    return source_ + ": " + reader_.truncation_message() + " (the writer was cut mid-record?); ignored";
  }
  std::string available() const override {
    return "scalar tags: " + join(std::vector<std::string>(tags_.begin(), tags_.end()), 20);
  }

 private:
  static bool matches(const std::vector<std::string>& names, const std::string& tag) {
    for (const auto& n : names)
      if (iequals(n, tag)) return true;
    return false;
  }
  std::string source_;
  TfRecordReader reader_;
  Columns cols_;
  std::set<std::string> tags_;
};

}  // namespace

std::unique_ptr<LogParser> make_parser(LogFormat format, const std::string& source, const ParseOptions& options) {
  switch (format) {
    case LogFormat::kLog: return std::make_unique<TextLogParser>(source);
    case LogFormat::kCsv: return std::make_unique<TableParser>(source, ',', false, options);
    case LogFormat::kTsv: return std::make_unique<TableParser>(source, '\t', false, options);
    case LogFormat::kWandb: return std::make_unique<TableParser>(source, ',', true, options);
    case LogFormat::kJsonl: return std::make_unique<JsonlParser>(source, options);
    case LogFormat::kTfevents: return std::make_unique<TfeventsParser>(source, options);
    default: throw std::invalid_argument("make_parser: the format must be known");
  }
}

LogFormat detect_format(std::string_view head, const std::string& path, bool complete) {
  if (looks_like_tfrecord(head)) return LogFormat::kTfevents;
  if (path.find("tfevents") != std::string::npos) return head.size() >= 12 || complete ? LogFormat::kTfevents : LogFormat::kAuto;
  // The first non-empty complete line decides.
  size_t start = 0;
  while (true) {
    size_t nl = head.find('\n', start);
    if (nl == std::string_view::npos) {
      if (!complete) return LogFormat::kAuto;
      nl = head.size();
    }
    std::string_view line = trim(head.substr(start, nl - start));
    if (!line.empty()) {
      if (line.front() == '{') return LogFormat::kJsonl;
      if (split_fields(line, '\t').size() >= 2) return LogFormat::kTsv;
      auto fields = split_fields(line, ',');
      if (fields.size() >= 2) {
        bool names = true, known = false, wandb = false;
        for (const auto& f : fields) {
          if (f.find(':') != std::string::npos || f.empty()) names = false;
          if (f.find(" - ") != std::string::npos || wandb_minmax(f)) wandb = true;
          for (const auto* list : {&step_aliases(), &tokens_aliases(), &train_loss_aliases(), &eval_loss_aliases()})
            for (const auto& a : *list)
              if (iequals(a, f) || iequals(a, wandb_metric(f))) known = true;
        }
        if (names && wandb) return LogFormat::kWandb;
        if (names && known) return LogFormat::kCsv;
      }
      return LogFormat::kLog;
    }
    if (nl >= head.size()) return complete ? LogFormat::kLog : LogFormat::kAuto;
    start = nl + 1;
  }
}

// ---------------------------------------------------------------------------------------------
LogReader::LogReader(std::string path, ParseOptions options)
    : path_(std::move(path)), options_(std::move(options)), format_(options_.format) {}

LogReader::~LogReader() {
  if (fd_ >= 0) ::close(fd_);
}

void LogReader::start_parser(bool complete, std::vector<LogRecord>& out) {
  if (format_ == LogFormat::kAuto) format_ = detect_format(head_, path_, complete);
  if (format_ == LogFormat::kAuto) return;
  parser_ = make_parser(format_, path_, options_);
  std::string h = std::move(head_);
  head_.clear();
  parser_->feed(h, out);
}

std::vector<LogRecord> LogReader::poll(bool wait_for_file, bool* grew) {
  std::vector<LogRecord> out;
  if (grew) *grew = false;
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      if (wait_for_file && errno == ENOENT) return out;
      throw io::InputError(path_, 0, "", std::string("cannot open log (") + std::strerror(errno) + ")");
    }
    struct stat st;
    if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode))
      throw io::InputError(path_, 0, "", "is a directory; give the log file (e.g. its events.out.tfevents.* file)");
  }
  struct stat st;
  if (::fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) < offset_)
    throw io::InputError(path_, 0, "", "the file shrank from " + std::to_string(offset_) + " to " +
                                           std::to_string(st.st_size) + " bytes while being read (replaced or truncated)");
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io::InputError(path_, 0, "", std::string("read failed (") + std::strerror(errno) + ")");
    }
    if (n == 0) break;
    offset_ += static_cast<uint64_t>(n);
    if (grew) *grew = true;
    if (parser_) {
      parser_->feed(std::string_view(buf, static_cast<size_t>(n)), out);
    } else {
      head_.append(buf, static_cast<size_t>(n));
      start_parser(false, out);
    }
  }
  return out;
}

std::vector<LogRecord> LogReader::finish(std::vector<std::string>& warnings) {
  std::vector<LogRecord> out;
  if (!parser_) {
    if (fd_ < 0 || head_.empty()) return out;
    start_parser(true, out);
  }
  if (auto w = parser_->finish(out)) warnings.push_back(*w);
  return out;
}

}  // namespace scalinglab::monitor
