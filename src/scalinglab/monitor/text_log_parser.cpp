// Text logs: llm.c stdout (train_gpt2.c, train_gpt2.cu) and main.log, nanoGPT stdout, and
// modded-nanogpt record files. Every kind of line is recognised wherever it appears; a line that
// is none of them is counted as ignored, never an error. A line that is one of them but holds a
// non-number where a loss goes is an error, except a format template (`{val_loss:.4f}`): the
// script's own source, printed into the log.
#include <cctype>
#include <charconv>

#include "scalinglab/monitor/log_parsing.h"

namespace scalinglab::monitor::detail {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// Whitespace-separated tokens, without allocating.
class Tokens {
 public:
  explicit Tokens(std::string_view s) : s_(s) {}
  bool next(std::string_view& tok) {
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
    size_t j = i_;
    while (j < s_.size() && !is_space(s_[j])) ++j;
    if (j == i_) return false;
    tok = s_.substr(i_, j - i_);
    i_ = j;
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// The digits at s[i…] as a number; i moves past them. False when there are none.
bool digits_at(std::string_view s, size_t& i, double& v) {
  size_t j = i;
  while (j < s.size() && is_digit(s[j])) ++j;
  if (j == i) return false;
  long long n = 0;
  std::from_chars(s.data() + i, s.data() + j, n);
  v = static_cast<double>(n);
  i = j;
  return true;
}

// The first line of a Python script (modded-nanogpt records start with train_gpt.py's source):
// `import os`, `from x.y import z`, a shebang or a docstring.
bool looks_like_python(std::string_view s) {
  if (starts_with(s, "#!") || starts_with(s, "\"\"\"") || starts_with(s, "'''")) return true;
  auto ident_end = [&](size_t i) {
    while (i < s.size() && (is_ident(s[i]) || s[i] == '.')) ++i;
    return i;
  };
  if (starts_with(s, "import ")) {
    size_t e = ident_end(7);
    return e > 7 && (e == s.size() || s[e] == ' ' || s[e] == ',');
  }
  if (starts_with(s, "from ")) {
    size_t e = ident_end(5);
    return e > 5 && s.substr(e, 8) == " import ";
  }
  return false;
}

// modded-nanogpt ends the script's source with a line of '=' (100 of them).
bool is_separator(std::string_view s) { return s.size() >= 20 && s.find_first_not_of('=') == std::string_view::npos; }

class TextLogParser final : public LineParser {
 public:
  explicit TextLogParser(std::string source) : LineParser(std::move(source), false) {}

 protected:
  void parse_line(std::string_view raw, long line_no, std::vector<LogRecord>& out) override {
    std::string_view s = trim(raw);
    if (state_ == State::kStart && !s.empty()) state_ = looks_like_python(s) ? State::kPrelude : State::kLog;
    if (state_ == State::kPrelude) {  // nothing in the script's source is a value, whatever it looks like
      if (is_separator(s)) state_ = State::kLog;
      ignore(kPrelude, line_no, s);
      return;
    }
    if (s.empty()) {
      ignore(kBlankLine, line_no, s);
      return;
    }
    LogRecord r;
    r.line = line_no;
    switch (parse(s, line_no, r)) {
      case Kind::kRecord:
        if (!r.total_steps) r.total_steps = total_steps_;
        out.push_back(r);
        break;
      case Kind::kTemplate: ignore(kTemplate, line_no, s); break;
      case Kind::kNone: ignore(kNoLoss, line_no, s); break;
    }
  }

 private:
  enum class State { kStart, kPrelude, kLog };
  enum class Kind { kNone, kRecord, kTemplate };
  // A number after a key: a value, a template placeholder ("{val_loss:.4f}"), or an error.
  struct Num {
    double v = 0;
    bool templ = false;
  };

  Kind parse(std::string_view s, long line_no, LogRecord& r) {
    if (starts_with(s, "s:") && s.size() > 2 && is_digit(s[2])) return main_log(s, line_no, r);
    if (starts_with(s, "step:")) return modded(s, line_no, r);
    // nanoGPT: "tokens per iteration will be: 491,520"; llm.c: "total desired batch size: 524288".
    for (std::string_view key : {std::string_view("tokens per iteration will be:"), std::string_view("total desired batch size:")}) {
      if (starts_with(s, key)) {
        std::string digits;
        for (char ch : s.substr(key.size()))
          if (ch != ',' && ch != '_') digits += ch;
        double v;
        if (!parse_double(digits, v) || !(v > 0)) return Kind::kNone;
        r.tokens_per_step = v;
        return Kind::kRecord;
      }
    }
    if (s.front() == '|') return table_row(s, r);
    if (auto k = max_iters(s, r)) return *k;
    // llm.c: "val loss %f" on its own line, evaluated before the training step of its loop
    // iteration: after `last_step_` updates in train_gpt2.cu (which prints "step k/N" for the k-th
    // update), after last_step_ + 1 in train_gpt2.c (which prints "step k:" 0-based).
    if (starts_with(s, "val loss")) {
      Num n = number_after(s, 8, line_no, "val loss");
      if (n.templ) return Kind::kTemplate;
      r.eval_loss = n.v;
      r.step = !seen_step_ ? 0.0 : (slash_form_ ? last_step_ : last_step_ + 1);
      return Kind::kRecord;
    }
    return step_line(s, line_no, r);
  }

  // llm.c main.log (llmc/logger.h): "s:%d trl:%.4f lr:%.6f norm:%.2f", "s:%d tel:%.4f", "s:%d eval:%.4f"
  // (the HellaSwag accuracy, not a loss).
  Kind main_log(std::string_view s, long line_no, LogRecord& r) {
    Tokens t(s);
    std::string_view tok;
    bool any = false;
    while (t.next(tok)) {
      size_t c = tok.find(':');
      if (c == std::string_view::npos) continue;
      std::string_view key = tok.substr(0, c), val = tok.substr(c + 1);
      if (key != "s" && key != "trl" && key != "tel" && key != "lr") continue;
      double v;
      if (!parse_double(val, v))
        throw error(line_no, "", "expected a number after '" + std::string(key) + ":', got " + show(val));
      if (key == "s") r.step = v;
      else if (key == "trl") r.train_loss = v, any = true;
      else if (key == "tel") r.eval_loss = v, any = true;
      else r.lr = v;
    }
    return any && r.step ? Kind::kRecord : Kind::kNone;
  }

  // modded-nanogpt: "step:125/1393 val_loss:4.3986 train_time:…ms step_avg:…ms",
  // "step:1/3000 train_loss:10.9241 train_time:…", "step:1/1393 train_time:29353ms …" (no loss).
  Kind modded(std::string_view s, long line_no, LogRecord& r) {
    Tokens t(s.substr(5));
    std::string_view tok;
    if (!t.next(tok)) return Kind::kNone;
    if (tok.find('{') != std::string_view::npos) return Kind::kTemplate;
    size_t i = 0;
    double step, total;
    if (!digits_at(tok, i, step)) return Kind::kNone;
    bool slash = i < tok.size() && tok[i] == '/';
    if (slash) {
      ++i;
      if (!digits_at(tok, i, total)) return Kind::kNone;
    }
    if (i != tok.size()) return Kind::kNone;
    r.step = step;
    if (slash) r.total_steps = total_steps_ = total;
    bool any = false;
    while (t.next(tok)) {
      size_t c = tok.find(':');
      if (c == std::string_view::npos) continue;
      std::string_view key = tok.substr(0, c), val = tok.substr(c + 1);
      bool train = key == "train_loss", eval = key == "val_loss";
      if (!train && !eval && key != "lr") continue;
      if (!val.empty() && val.front() == '{') return Kind::kTemplate;
      double v;
      if (!parse_double(val, v))
        throw error(line_no, "", "expected a number after '" + std::string(key) + ":', got " +
                                     (val.empty() ? std::string("nothing") : show(val)));
      if (train) r.train_loss = v, any = true;
      else if (eval) r.eval_loss = v, any = true;
      else r.lr = v;
    }
    return any ? Kind::kRecord : Kind::kNone;
  }

  // llm.c train_gpt2.cu's parameter table: "| total batch size      | 524288     |", "| max_steps | -1 |",
  // "| train_num_batches     | 18865      |" (the planned steps when max_steps is -1).
  Kind table_row(std::string_view s, LogRecord& r) {
    if (s.size() < 3 || s.back() != '|') return Kind::kNone;
    std::string_view inner = s.substr(1, s.size() - 2);
    size_t bar = inner.find('|');
    if (bar == std::string_view::npos) return Kind::kNone;
    std::string_view key = trim(inner.substr(0, bar)), val = trim(inner.substr(bar + 1));
    if (val.find('|') != std::string_view::npos) return Kind::kNone;  // nvidia-smi and other tables
    double v;
    bool batch = key == "total batch size";
    bool steps = key == "max_steps" || key == "num_iterations" || key == "train_num_batches";
    if ((!batch && !steps) || !parse_double(val, v) || !(v > 0)) return Kind::kNone;
    if (batch) r.tokens_per_step = v;
    else r.total_steps = total_steps_ = v;
    return Kind::kRecord;
  }

  // nanoGPT prints its config file ("max_iters = 5000") and overrides ("Overriding: max_iters = 5000").
  std::optional<Kind> max_iters(std::string_view s, LogRecord& r) {
    if (starts_with(s, "Overriding: ")) s.remove_prefix(12);
    if (!starts_with(s, "max_iters")) return std::nullopt;
    std::string_view rest = trim(s.substr(9));
    if (rest.empty() || rest.front() != '=') return std::nullopt;
    rest = rest.substr(1);
    rest = trim(rest.substr(0, rest.find('#')));
    double v;
    if (!parse_double(rest, v) || !(v > 0)) return Kind::kNone;
    r.total_steps = total_steps_ = v;
    return Kind::kRecord;
  }

  // "step 10/100: train loss …", "step 10/100 | loss … | lr …", "step 10: train loss … (took … ms)"
  // (llm.c); "iter 10: loss …, time …" and "step 250: train loss …, val loss …" (nanoGPT).
  Kind step_line(std::string_view s, long line_no, LogRecord& r) {
    bool is_step = starts_with(s, "step"), is_iter = starts_with(s, "iter");
    if (!is_step && !is_iter) return Kind::kNone;
    size_t i = is_iter && starts_with(s, "iteration") ? 9 : 4;
    if (i >= s.size() || !is_space(s[i])) return Kind::kNone;
    while (i < s.size() && is_space(s[i])) ++i;
    if (i < s.size() && s[i] == '{') return Kind::kTemplate;
    double step, total;
    if (!digits_at(s, i, step)) return Kind::kNone;
    bool slash = i < s.size() && s[i] == '/';
    if (slash) {
      ++i;
      if (i < s.size() && s[i] == '{') return Kind::kTemplate;
      if (!digits_at(s, i, total)) return Kind::kNone;
    }
    std::string_view rest = s.substr(i);
    std::string_view rt = trim(rest);
    if (rt.empty() || (rt.front() != ':' && rt.front() != '|')) return Kind::kNone;
    r.step = step;
    if (slash) r.total_steps = total_steps_ = total;
    auto get = [&](const char* key, std::optional<double>& dst) {
      auto p = find_key(rest, key);
      if (!p) return true;
      Num n = number_after(rest, *p, line_no, key);
      if (n.templ) return false;
      dst = n.v;
      return true;
    };
    if (!get("train loss", r.train_loss) || !get("val loss", r.eval_loss)) return Kind::kTemplate;
    if (!r.train_loss && !get("loss", r.train_loss)) return Kind::kTemplate;  // "iter 10: loss", "step 3/74 | loss"
    if (r.train_loss && r.eval_loss) r.train_loss.reset();  // nanoGPT's estimate_loss(): an evaluation, not a step
    if (!r.train_loss && !r.eval_loss) return Kind::kNone;
    if (auto p = find_key(rest, "lr")) {  // llm.c prints it; lenient: an unreadable lr is left out
      size_t a = *p;
      while (a < rest.size() && (is_space(rest[a]) || rest[a] == ':' || rest[a] == '=')) ++a;
      size_t b = a;
      while (b < rest.size() && !is_space(rest[b]) && rest[b] != ',' && rest[b] != '|') ++b;
      double v;
      if (parse_double(rest.substr(a, b - a), v)) r.lr = v;
    }
    if (is_step && r.train_loss) {
      seen_step_ = true;
      slash_form_ = slash;
      last_step_ = step;
    }
    return Kind::kRecord;
  }

  // Position just past `key` when it appears as whole words (not inside "val_loss_ema").
  static std::optional<size_t> find_key(std::string_view s, std::string_view key) {
    size_t pos = 0;
    while ((pos = s.find(key, pos)) != std::string_view::npos) {
      bool left = pos == 0 || !std::isalnum(static_cast<unsigned char>(s[pos - 1]));
      size_t end = pos + key.size();
      bool right = end >= s.size() || is_space(s[end]) || s[end] == ':' || s[end] == '=';
      if (left && right) return end;
      pos = end;
    }
    return std::nullopt;
  }

  Num number_after(std::string_view s, size_t pos, long line_no, const std::string& key) const {
    size_t i = pos;
    while (i < s.size() && (is_space(s[i]) || s[i] == ':' || s[i] == '=')) ++i;
    if (i < s.size() && s[i] == '{') return {0, true};
    size_t j = i;
    while (j < s.size() && !is_space(s[j]) && s[j] != ',' && s[j] != '|' && s[j] != '(') ++j;
    std::string_view tok = s.substr(i, j - i);
    double v;
    if (!parse_double(tok, v))
      throw error(line_no, "", "expected a number after '" + key + "', got " + (tok.empty() ? std::string("nothing") : show(tok)));
    return {v, false};
  }

  State state_ = State::kStart;
  bool seen_step_ = false, slash_form_ = false;
  double last_step_ = 0;
  std::optional<double> total_steps_;
};

}  // namespace

std::unique_ptr<LogParser> make_text_log_parser(const std::string& source) { return std::make_unique<TextLogParser>(source); }

}  // namespace scalinglab::monitor::detail
